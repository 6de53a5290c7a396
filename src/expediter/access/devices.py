"""Kitchen devices paired to screens, and the one-time codes that pair them.

A screen that is not paired asks for a code (:meth:`Devices.request_pairing`): six characters,
valid :data:`CODE_LIFETIME`, shown on the screen, tied to a random claim secret kept in that
browser's cookie. An operator approves the code for a location and one or more stations
(:meth:`Devices.approve`); the screen, at its next look, claims its long-lived device credential
(:meth:`Devices.claim`). Only the browser holding the claim secret can claim: reading the code off
the screen is not enough. An admin revokes a device (:meth:`Devices.revoke`).

The ``devices`` and ``pairing_requests`` tables belong to this module.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import msgspec

from expediter.access.credentials import digest, new_secret
from expediter.errors import RejectedInput
from expediter.storage.base import Row, Storage, Tx, from_iso, to_iso, utcnow

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""No 0/O, 1/I: a cook reads the code to an operator across the pass."""
CODE_LENGTH = 6
CODE_LIFETIME = timedelta(minutes=10)
CLAIM_WINDOW = timedelta(minutes=10)
"""After approval, how long the screen has to pick up its credential."""
OPEN_REQUESTS_MAX = 200
"""Codes waiting at once; more is someone asking for codes in a loop."""
_REQUEST_COLUMNS = (
    "code, station, address, requested_at, expires_at, approved_by, approved_at, name, location_id,"
    " stations, device_id"
)
_DEVICE_COLUMNS = (
    "id, name, location_id, stations, csrf, paired_by, paired_at, seen_at, address, revoked_at, revoked_by"
)


class PairingRequest(msgspec.Struct, kw_only=True, frozen=True):
    code: str
    station: str
    address: str
    requested_at: datetime
    expires_at: datetime
    approved_by: str = ""
    approved_at: datetime | None = None
    name: str = ""
    location_id: str = ""
    stations: tuple[str, ...] = ()
    device_id: int | None = None

    @property
    def shown_code(self) -> str:
        """``K7Q M2P``: two groups of three, easier to read out."""
        return f"{self.code[:3]} {self.code[3:]}"


class Device(msgspec.Struct, kw_only=True, frozen=True):
    id: int
    name: str
    location_id: str
    """Empty: every location (approved by someone who sees every location)."""
    stations: tuple[str, ...]
    csrf: str
    paired_by: str
    paired_at: datetime
    seen_at: datetime
    address: str = ""
    revoked_at: datetime | None = None
    revoked_by: str = ""

    def serves(self, station: str) -> bool:
        return station in self.stations


def normal_code(text: str) -> str:
    """What a person typed (``k7q-m2p``, ``K7Q M2P``) as the stored code."""
    return "".join(char for char in text.upper() if char.isalnum())


def _when(text: str | None) -> datetime | None:
    return from_iso(text) if text else None


def _request(row: Row) -> PairingRequest:
    return PairingRequest(
        code=row["code"],
        station=row["station"],
        address=row["address"],
        requested_at=from_iso(row["requested_at"]),
        expires_at=from_iso(row["expires_at"]),
        approved_by=row["approved_by"],
        approved_at=_when(row["approved_at"]),
        name=row["name"],
        location_id=row["location_id"],
        stations=tuple(msgspec.json.decode(row["stations"], type=list[str])),
        device_id=row["device_id"],
    )


def _device(row: Row) -> Device:
    return Device(
        id=int(row["id"]),
        name=row["name"],
        location_id=row["location_id"],
        stations=tuple(msgspec.json.decode(row["stations"], type=list[str])),
        csrf=row["csrf"],
        paired_by=row["paired_by"],
        paired_at=from_iso(row["paired_at"]),
        seen_at=from_iso(row["seen_at"]),
        address=row["address"],
        revoked_at=_when(row["revoked_at"]),
        revoked_by=row["revoked_by"],
    )


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class Devices:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    # -- pairing ----------------------------------------------------------------------------------

    async def request_pairing(self, station: str, address: str) -> tuple[str, PairingRequest] | None:
        """A new code for a screen of ``station``: (the claim secret for the screen's cookie, the
        request). ``None`` when :data:`OPEN_REQUESTS_MAX` codes are already waiting."""
        claim, now = new_secret(), utcnow()

        def insert(tx: Tx) -> str | None:
            tx.execute(
                "DELETE FROM pairing_requests WHERE expires_at < ? AND device_id IS NULL",
                (to_iso(now - CLAIM_WINDOW),),
            )
            row = tx.one("SELECT COUNT(*) FROM pairing_requests WHERE expires_at >= ?", (to_iso(now),))
            if row is not None and int(row[0]) >= OPEN_REQUESTS_MAX:
                return None
            for _ in range(10):  # 32^6 codes: a clash with a waiting one is rare
                code = _new_code()
                inserted = tx.one(  # the table is keyed by its code: no id to return
                    "INSERT INTO pairing_requests (code, claim_hash, station, address, requested_at,"
                    " expires_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING RETURNING code",
                    (code, digest(claim), station, address[:100], to_iso(now), to_iso(now + CODE_LIFETIME)),
                )
                if inserted is not None:
                    return code
            return None

        code = await self.storage.write(insert)
        if code is None:
            return None
        request = await self._request_by("code", code)
        assert request is not None
        return claim, request

    async def pending(self, claim: str) -> PairingRequest | None:
        """The request behind a screen's claim secret, while it can still lead to a pairing."""
        if not claim:
            return None
        request = await self._request_by("claim_hash", digest(claim))
        if request is None or request.device_id is not None:
            return None
        now = utcnow()
        if request.approved_at is None:
            return request if now <= request.expires_at else None
        return request if now <= request.approved_at + CLAIM_WINDOW else None

    async def waiting(self) -> list[PairingRequest]:
        """Codes shown on screens now, waiting for an operator, newest first."""
        now = to_iso(utcnow())
        rows = await self.storage.read(
            lambda tx: tx.all(
                f"SELECT {_REQUEST_COLUMNS} FROM pairing_requests WHERE expires_at >= ?"
                " AND approved_at IS NULL ORDER BY requested_at DESC",
                (now,),
            )
        )
        return [_request(row) for row in rows]

    async def approve(
        self, code: str, *, name: str, location_id: str, stations: list[str], approved_by: str
    ) -> PairingRequest:
        """An operator's yes to the code on a screen."""
        wanted, now = normal_code(code), utcnow()
        if not stations:
            raise RejectedInput(
                "choose at least one station", where="stations", fix="tick the screen's stations"
            )
        label = name.strip()[:60] or f"{location_id} screen"

        def update(tx: Tx) -> int:
            row = tx.one(
                "SELECT COUNT(*) FROM pairing_requests"
                " WHERE code = ? AND expires_at >= ? AND approved_at IS NULL",
                (wanted, to_iso(now)),
            )
            if row is None or int(row[0]) == 0:
                return 0
            tx.execute(
                "UPDATE pairing_requests SET approved_by = ?, approved_at = ?, name = ?, location_id = ?,"
                " stations = ? WHERE code = ?",
                (
                    approved_by,
                    to_iso(now),
                    label,
                    location_id,
                    msgspec.json.encode(sorted(stations)).decode(),
                    wanted,
                ),
            )
            return 1

        if not await self.storage.write(update):
            raise RejectedInput(
                f"no screen is showing the code {code.strip()!r}"
                f" (codes last {CODE_LIFETIME.seconds // 60} minutes)",
                where="code",
                fix="type the code the screen shows now; reload the screen for a new one",
            )
        request = await self._request_by("code", wanted)
        assert request is not None
        return request

    async def claim(self, claim: str, address: str) -> tuple[str, Device] | None:
        """The screen's credential once its code is approved: (cookie value, device); else ``None``."""
        request = await self.pending(claim)
        if request is None or request.approved_at is None:
            return None
        credential, now = new_secret(), to_iso(utcnow())

        def insert(tx: Tx) -> int | None:
            device_id = tx.insert(
                "INSERT INTO devices (name, location_id, stations, credential_hash, csrf, paired_by,"
                " paired_at, seen_at, address) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    request.name,
                    request.location_id,
                    msgspec.json.encode(list(request.stations)).decode(),
                    digest(credential),
                    new_secret(),
                    request.approved_by,
                    now,
                    now,
                    address[:100],
                ),
            )
            tx.execute(
                "UPDATE pairing_requests SET device_id = ? WHERE code = ? AND device_id IS NULL",
                (device_id, request.code),
            )
            return device_id

        device_id = await self.storage.write(insert)
        device = await self.get(int(device_id or 0))
        return (credential, device) if device is not None else None

    async def _request_by(self, column: str, value: str) -> PairingRequest | None:
        sql = f"SELECT {_REQUEST_COLUMNS} FROM pairing_requests WHERE {column} = ?"
        row = await self.storage.read(lambda tx: tx.one(sql, (value,)))
        return _request(row) if row else None

    # -- paired devices ---------------------------------------------------------------------------

    async def find(self, credential: str) -> Device | None:
        """The paired, not revoked, device behind a cookie's value."""
        if not credential:
            return None
        sql = f"SELECT {_DEVICE_COLUMNS} FROM devices WHERE credential_hash = ? AND revoked_at IS NULL"
        row = await self.storage.read(lambda tx: tx.one(sql, (digest(credential),)))
        return _device(row) if row else None

    async def get(self, device_id: int) -> Device | None:
        sql = f"SELECT {_DEVICE_COLUMNS} FROM devices WHERE id = ?"
        row = await self.storage.read(lambda tx: tx.one(sql, (device_id,)))
        return _device(row) if row else None

    async def all(self) -> list[Device]:
        """Every device ever paired, the revoked ones too (for the record), newest first."""
        rows = await self.storage.read(
            lambda tx: tx.all(f"SELECT {_DEVICE_COLUMNS} FROM devices ORDER BY paired_at DESC, id DESC")
        )
        return [_device(row) for row in rows]

    async def touch(self, device: Device, address: str, every: timedelta = timedelta(minutes=1)) -> None:
        """Note that the device was seen (at most once a minute)."""
        now = utcnow()
        if now - device.seen_at < every:
            return
        await self.storage.write(
            lambda tx: tx.execute(
                "UPDATE devices SET seen_at = ?, address = ? WHERE id = ?",
                (to_iso(now), address[:100], device.id),
            )
        )

    async def revoke(self, device_id: int, by: str) -> Device:
        device = await self.get(device_id)
        if device is None or device.revoked_at is not None:
            raise RejectedInput(
                f"no paired device {device_id}", where="device", fix="see the paired devices at /devices"
            )
        now = to_iso(utcnow())
        await self.storage.write(
            lambda tx: tx.execute(
                "UPDATE devices SET revoked_at = ?, revoked_by = ? WHERE id = ?", (now, by, device_id)
            )
        )
        revoked = await self.get(device_id)
        assert revoked is not None
        return revoked
