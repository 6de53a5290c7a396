"""QuickBooks: QBO JournalEntry JSON and its post (idempotency header), and IIF for the worked day."""

from __future__ import annotations

import asyncio
import json

import httpx
import msgspec
import pytest

from expediter.connectors.base import Capability, Outbound
from expediter.connectors.quickbooks.client import QuickBooksClient
from expediter.connectors.quickbooks.config import QuickBooksSettings
from expediter.connectors.quickbooks.connector import CONNECTOR, QuickBooksSink
from expediter.connectors.quickbooks.formats import iif_journal
from expediter.connectors.quickbooks.mapping import qbo_doc_number, qbo_journal_entry
from expediter.errors import ConfigError, TerminalError, TransientError
from expediter.operations.accounting.journal import JournalEntry, build_journal
from tests.operations.accounting.worked_day import (
    DAY,
    DRAWER,
    EXPECTED_LINES,
    LOCATION,
    MAPPINGS,
    worked_orders,
)


def _entry() -> JournalEntry:
    return build_journal(worked_orders(), MAPPINGS, location_id=LOCATION, business_date=DAY, drawer=DRAWER)


def test_qbo_json_shape() -> None:
    body = qbo_journal_entry(_entry(), {"1000 Cash": "35"})
    assert body["DocNumber"] == "DS-bk1-20261127"
    assert body["TxnDate"] == "2026-11-27"
    assert body["CurrencyRef"] == {"value": "USD"}
    first = body["Line"][0]
    assert first == {
        "Id": "0",
        "Description": "cash",
        "Amount": 62.96,
        "DetailType": "JournalEntryLineDetail",
        "JournalEntryLineDetail": {
            "PostingType": "Debit",
            "AccountRef": {"value": "35", "name": "1000 Cash"},
        },
    }
    postings = [
        (ln["JournalEntryLineDetail"]["PostingType"], round(ln["Amount"] * 100)) for ln in body["Line"]
    ]
    expected = [("Debit" if d else "Credit", d or c) for _, d, c, _ in EXPECTED_LINES]
    assert postings == expected
    debits = sum(a for kind, a in postings if kind == "Debit")
    assert debits == sum(a for kind, a in postings if kind == "Credit")


def test_long_location_gets_a_stable_short_doc_number() -> None:
    entry = msgspec.structs.replace(
        _entry(), location_id="a-very-long-location-id-1", document_number="DS-x" * 9
    )
    number = qbo_doc_number(entry)
    assert len(number) <= 21 and number == qbo_doc_number(entry) and number.endswith("-20261127")


class StandIn:
    """QBO at the transport seam: records requests, answers with the configured status."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.status != 200:
            return httpx.Response(self.status, json={"Fault": {"Error": [{"Message": "nope"}]}})
        return httpx.Response(200, json={"JournalEntry": {"Id": "177", **json.loads(request.content)}})


def _client(stand_in: StandIn) -> QuickBooksClient:
    settings = QuickBooksSettings(
        base_url="http://qbo.test/", realm_id="9130", access_token="env:TEST_QBO_TOKEN"
    )
    return QuickBooksClient(settings, transport=httpx.MockTransport(stand_in))


def test_post_sends_request_id_and_bearer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_QBO_TOKEN", "tok-123")
    stand_in = StandIn()
    posted = asyncio.run(_client(stand_in).post_journal(_entry()))
    [request] = stand_in.requests
    assert request.method == "POST"
    assert request.url.path == "/v3/company/9130/journalentry"
    assert request.url.params["requestid"] == "DS-bk1-20261127"
    assert request.headers["Request-Id"] == "DS-bk1-20261127"
    assert request.headers["Authorization"] == "Bearer tok-123"
    assert json.loads(request.content)["DocNumber"] == "DS-bk1-20261127"
    assert posted.remote_id == "177"


def test_retry_sends_the_same_request_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_QBO_TOKEN", "tok-123")
    stand_in = StandIn(status=503)
    client = _client(stand_in)
    with pytest.raises(TransientError):
        asyncio.run(client.post_journal(_entry()))
    stand_in.status = 200
    asyncio.run(client.post_journal(_entry()))
    assert [r.headers["Request-Id"] for r in stand_in.requests] == ["DS-bk1-20261127"] * 2


def test_rejected_credentials_are_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_QBO_TOKEN", "expired")
    with pytest.raises(TerminalError, match="401"):
        asyncio.run(_client(StandIn(status=401)).post_journal(_entry()))


def test_missing_token_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_QBO_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="TEST_QBO_TOKEN"):
        asyncio.run(_client(StandIn()).post_journal(_entry()))


def test_sink_delivers_a_journal_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_QBO_TOKEN", "tok-123")
    stand_in = StandIn()
    payload = msgspec.json.encode(_entry())
    item = Outbound(
        delivery_id=1,
        delivery_key="k",
        message_id=1,
        flow_id="journal-to-qbo",
        destination="qbo",
        location_id=LOCATION,
        kind="journal",
        payload=payload,
        content_type="application/json",
        attempt=1,
    )
    receipt = asyncio.run(QuickBooksSink(_client(stand_in)).deliver(item))
    assert receipt.records == len(EXPECTED_LINES) and receipt.remote_ref.endswith("#177")
    assert CONNECTOR.name == "quickbooks" and Capability.SINK in CONNECTOR.capabilities


def test_iif_for_the_worked_day() -> None:
    text = iif_journal([_entry()])
    rows = text.split("\r\n")
    assert rows[:3] == [
        "!TRNS\tTRNSID\tTRNSTYPE\tDATE\tACCNT\tAMOUNT\tDOCNUM\tMEMO",
        "!SPL\tSPLID\tTRNSTYPE\tDATE\tACCNT\tAMOUNT\tDOCNUM\tMEMO",
        "!ENDTRNS",
    ]
    assert rows[3] == "TRNS\t\tGENERAL JOURNAL\t11/27/2026\t1000 Cash\t62.96\tDS-bk1-20261127\tcash"
    body = rows[3 : 3 + len(EXPECTED_LINES)]
    assert [r.split("\t")[0] for r in body] == ["TRNS"] + ["SPL"] * (len(EXPECTED_LINES) - 1)
    assert rows[3 + len(EXPECTED_LINES)] == "ENDTRNS"
    assert sum(round(float(r.split("\t")[5]) * 100) for r in body) == 0
    assert "\t4000 Food Sales\t-75.00\t" in text


def test_iif_file_is_windows_1252_and_unencodable_characters_become_question_marks() -> None:
    from datetime import date

    from expediter.connectors.base import ExportRequest
    from expediter.connectors.quickbooks.connector import render
    from expediter.model.location import Location

    entry = _entry()
    first = msgspec.structs.replace(entry.lines[0], memo="Café ☕")
    entry = msgspec.structs.replace(entry, lines=[first, *entry.lines[1:]])
    request = ExportRequest(
        catalog=None,  # type: ignore[arg-type]  # render reads only the flow from the request
        location=Location(id=LOCATION, name=LOCATION, timezone="UTC"),
        start_date=date(2026, 11, 27),
        end_date=date(2026, 11, 27),
        orders=lambda: (),
        punches=lambda: (),
    )
    out = render(QuickBooksSettings())(entry, request)
    assert out.name.endswith(".iif") and "windows-1252" in out.content_type
    assert b"Caf\xe9 ?" in out.data  # é is one cp1252 byte; the emoji is replaced, not a crash
    assert out.data.decode("cp1252").startswith("!TRNS")
