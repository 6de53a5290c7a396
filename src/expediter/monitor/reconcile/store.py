"""The reconciliation results in the hub's database (table ``reconciliations``): one row per
location, business date and check, replaced by each re-run; ``differs_since`` survives re-runs
that still differ, so a manager sees how long two systems have disagreed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import msgspec

from expediter.monitor.reconcile.model import CheckResult, CheckState
from expediter.storage.base import Row, Storage, Tx, from_iso, to_iso

_UPSERT = (
    "INSERT INTO reconciliations (location_id, business_date, check_name, state, flow_id, summary,"
    " details, checked_at, differs_since) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (location_id, business_date, check_name) DO UPDATE SET state = excluded.state,"
    " flow_id = excluded.flow_id, summary = excluded.summary, details = excluded.details,"
    " checked_at = excluded.checked_at, differs_since = CASE WHEN excluded.state = 'differ'"
    " THEN COALESCE(reconciliations.differs_since, excluded.differs_since) ELSE NULL END"
)
_COLUMNS = "details, differs_since"
_decoder = msgspec.json.Decoder(CheckResult)


def _save(tx: Tx, result: CheckResult) -> None:
    assert result.checked_at is not None
    differs = to_iso(result.checked_at) if result.state is CheckState.DIFFER else None
    tx.execute(
        _UPSERT,
        (
            result.location_id,
            result.business_date.isoformat(),
            str(result.check),
            str(result.state),
            result.flow_id,
            result.summary,
            msgspec.json.encode(result),
            to_iso(result.checked_at),
            differs,
        ),
    )


def _result(row: Row) -> CheckResult:
    result = _decoder.decode(bytes(row["details"]))
    result.differs_since = from_iso(row["differs_since"]) if row["differs_since"] else None
    return result


async def save_results(storage: Storage, results: Iterable[CheckResult]) -> None:
    """Store each result (replacing the check's earlier one for that day) in one transaction."""
    batch = list(results)

    def write(tx: Tx) -> None:
        for result in batch:
            _save(tx, result)

    if batch:
        await storage.write(write)


async def load_results(
    storage: Storage, start: date, end: date, location_ids: Sequence[str] = ()
) -> list[CheckResult]:
    """Stored results for business dates in [start, end]: of these locations (each read by its
    key), or of every location."""
    sql = f"SELECT {_COLUMNS} FROM reconciliations WHERE business_date >= ? AND business_date <= ?"
    order = " ORDER BY business_date, location_id, check_name"
    days = [start.isoformat(), end.isoformat()]

    def query(tx: Tx) -> list[CheckResult]:
        if not location_ids:
            return [_result(row) for row in tx.all(sql + order, days)]
        found = []
        for location_id in location_ids:
            rows = tx.all(sql + " AND location_id = ?" + order, [*days, location_id])
            found += [_result(row) for row in rows]
        return found

    return await storage.read(query)


async def differing(storage: Storage, since: date) -> list[CheckResult]:
    """Every stored result that differs, for business dates from ``since`` on."""
    sql = (
        f"SELECT {_COLUMNS} FROM reconciliations WHERE state = ? AND business_date >= ?"
        " ORDER BY business_date, location_id, check_name"
    )
    return await storage.read(
        lambda tx: [_result(row) for row in tx.all(sql, (str(CheckState.DIFFER), since.isoformat()))]
    )
