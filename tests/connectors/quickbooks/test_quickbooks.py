"""QuickBooks: QBO JournalEntry JSON and its post (idempotency header), and IIF for the worked day."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import msgspec
import pytest

from expediter.connectors.quickbooks.client import QuickBooksClient
from expediter.connectors.quickbooks.config import QuickBooksSettings
from expediter.connectors.quickbooks.connector import CONNECTOR, QuickBooksSink
from expediter.connectors.quickbooks.formats import iif_journal
from expediter.connectors.quickbooks.mapping import (
    JSON,
    UnresolvedAccounts,
    iif_doc_number,
    qbo_doc_number,
    qbo_journal_entry,
)
from expediter.errors import ConfigError, TerminalError, TransientError
from expediter.operations.accounting.journal import JournalEntry, JournalSettings, build_journal
from expediter.plugin.base import Capability, Outbound
from tests.connectors.quickbooks.standin import WORKED_DAY_ACCOUNTS, StandIn, account
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


IDS = {
    "1000 Cash": "35",
    "1010 Visa Clearing": "36",
    "1011 Card Clearing": "37",
    "1020 DoorDash Clearing": "38",
    "2100 Sales Tax Payable": "41",
    "2200 Tips Payable": "42",
    "2300 Gift Card Liability": "43",
    "4000 Food Sales": "79",
    "4100 Beverage Sales": "80",
    "4500 Service Charges": "81",
    "4900 Discounts": "82",
    "4950 Comps": "83",
    "4960 Refunds": "84",
    "6900 Cash Over/Short": "90",
}


def test_qbo_json_shape() -> None:
    """Intuit's JournalEntry: Line[].Amount a positive decimal, JournalEntryLineDetail.PostingType
    Debit/Credit, AccountRef.value the account's Id (not its name)."""
    body = qbo_journal_entry(_entry(), IDS)
    assert body["DocNumber"] == "DS-bk1-20261127"
    assert body["TxnDate"] == "2026-11-27"
    assert body["CurrencyRef"] == {"value": "USD"}
    first = body["Line"][0]
    assert first == {
        "Id": "0",
        "Description": "cash",
        "Amount": Decimal("62.96"),
        "DetailType": "JournalEntryLineDetail",
        "JournalEntryLineDetail": {
            "PostingType": "Debit",
            "AccountRef": {"value": "35", "name": "1000 Cash"},
        },
    }
    postings = [(ln["JournalEntryLineDetail"]["PostingType"], int(ln["Amount"] * 100)) for ln in body["Line"]]
    expected = [("Debit" if d else "Credit", d or c) for _, d, c, _ in EXPECTED_LINES]
    assert postings == expected
    debits = sum(a for kind, a in postings if kind == "Debit")
    assert debits == sum(a for kind, a in postings if kind == "Credit")


def test_amounts_are_exact_decimals_in_the_json() -> None:
    """62.96 goes out as the JSON number 62.96, digit for digit: never a binary float's 62.9599..."""
    text = JSON.encode(qbo_journal_entry(_entry(), IDS)).decode()
    assert '"Amount":62.96,' in text and '"Amount":75.00,' in text


def test_a_name_without_an_id_is_refused_with_the_fix() -> None:
    with pytest.raises(UnresolvedAccounts, match="'4000 Food Sales'") as refused:
        qbo_journal_entry(_entry(), {k: v for k, v in IDS.items() if k != "4000 Food Sales"})
    assert "account_ids" in str(refused.value)


def test_long_location_gets_a_stable_short_doc_number() -> None:
    entry = msgspec.structs.replace(
        _entry(), location_id="a-very-long-location-id-1", document_number="DS-x" * 9
    )
    number = qbo_doc_number(entry)
    assert len(number) <= 21 and number == qbo_doc_number(entry) and number.endswith("-20261127")


def _client(stand_in: StandIn, **settings: object) -> QuickBooksClient:
    options = QuickBooksSettings(
        base_url="http://qbo.test/",
        realm_id="9130",
        access_token="env:TEST_QBO_TOKEN",
        **settings,  # type: ignore[arg-type]
    )
    return QuickBooksClient(options, transport=stand_in.mock())


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_QBO_TOKEN", "tok-123")


def test_post_resolves_ids_checks_the_doc_number_then_creates() -> None:
    stand_in = StandIn()
    posted = asyncio.run(_client(stand_in).post_journal(_entry()))
    methods = [(m, urlsplit(u).path) for m, u, _, _ in stand_in.requests]
    assert methods == [
        ("GET", "/v3/company/9130/query"),  # Account query: names → Ids
        ("GET", "/v3/company/9130/query"),  # JournalEntry where DocNumber = ...
        ("POST", "/v3/company/9130/journalentry"),
    ]
    account_query = parse_qs(urlsplit(stand_in.requests[0][1]).query)
    assert account_query["query"] == ["select * from Account STARTPOSITION 1 MAXRESULTS 1000"]
    doc_query = parse_qs(urlsplit(stand_in.requests[1][1]).query)["query"][0]
    assert doc_query == "select Id, DocNumber from JournalEntry where DocNumber = 'DS-bk1-20261127'"
    _, url, headers, _ = stand_in.requests[2]
    assert parse_qs(urlsplit(url).query)["requestid"] == ["DS-bk1-20261127"]
    assert headers["request-id"] == "DS-bk1-20261127"
    assert headers["authorization"] == "Bearer tok-123"
    (body,) = stand_in.posts()
    assert {ln["JournalEntryLineDetail"]["AccountRef"]["value"] for ln in body["Line"]} <= set(IDS.values())
    refs = {
        ln["JournalEntryLineDetail"]["AccountRef"]["name"]: ln["JournalEntryLineDetail"]["AccountRef"][
            "value"
        ]
        for ln in body["Line"]
    }
    assert refs["4000 Food Sales"] == "79"  # the active account, not the inactive one of that name
    assert (posted.remote_id, posted.created) == ("177", True)


def test_a_document_already_in_quickbooks_is_not_posted_again() -> None:
    stand_in = StandIn()
    client = _client(stand_in)
    first = asyncio.run(client.post_journal(_entry()))
    again = asyncio.run(client.post_journal(_entry()))
    assert len(stand_in.posts()) == 1
    assert (again.remote_id, again.created) == (first.remote_id, False)


def test_configured_ids_win_and_spare_the_account_query() -> None:
    stand_in = StandIn()
    asyncio.run(_client(stand_in, account_ids=IDS).post_journal(_entry()))
    queries = [parse_qs(urlsplit(u).query)["query"][0] for m, u, _, _ in stand_in.requests if m == "GET"]
    assert not any("from Account" in q for q in queries)


def test_an_account_quickbooks_does_not_have_stops_the_post_with_close_names() -> None:
    stand_in = StandIn(accounts=[a for a in WORKED_DAY_ACCOUNTS if a["AcctNum"] != "4000"])
    with pytest.raises(UnresolvedAccounts) as refused:
        asyncio.run(_client(stand_in).post_journal(_entry()))
    message = str(refused.value)
    assert "'4000 Food Sales'" in message and "close: Food Sales" in message and "account_ids" in message
    assert stand_in.posts() == []


def test_accounts_are_read_page_by_page() -> None:
    filler = [account(str(1000 + i), f"Other {i}", f"8{i:03d}", "Expense") for i in range(1000)]
    stand_in = StandIn(accounts=[*filler, *WORKED_DAY_ACCOUNTS])
    asyncio.run(_client(stand_in).post_journal(_entry()))
    starts = [parse_qs(urlsplit(u).query)["query"][0] for m, u, _, _ in stand_in.requests if m == "GET"][:2]
    assert starts == [
        "select * from Account STARTPOSITION 1 MAXRESULTS 1000",
        "select * from Account STARTPOSITION 1001 MAXRESULTS 1000",
    ]
    assert len(stand_in.posts()) == 1


def test_retry_sends_the_same_request_id() -> None:
    stand_in = StandIn(status=503)
    client = _client(stand_in, account_ids=IDS)
    with pytest.raises(TransientError, match="503"):
        asyncio.run(client.post_journal(_entry()))
    stand_in.status = 200
    asyncio.run(client.post_journal(_entry()))
    assert [h["request-id"] for m, _, h, _ in stand_in.requests if m == "POST"] == ["DS-bk1-20261127"]


def test_rejected_credentials_are_terminal_and_carry_quickbooks_words() -> None:
    with pytest.raises(TerminalError, match="401: Refused stand-in"):
        asyncio.run(_client(StandIn(status=401)).post_journal(_entry()))


def test_throttling_is_transient() -> None:
    with pytest.raises(TransientError, match="429"):
        asyncio.run(_client(StandIn(status=429)).post_journal(_entry()))


def test_missing_token_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_QBO_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="TEST_QBO_TOKEN"):
        asyncio.run(_client(StandIn()).post_journal(_entry()))


def test_sink_delivers_a_journal_message() -> None:
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
    """Intuit's IIF transaction columns: TRNSTYPE, ACCNT and AMOUNT required; NAME, CLASS and a
    DOCNUM (QuickBooks Desktop keeps 11 characters: ``bk1-261127``); debits positive."""
    text = iif_journal([_entry()])
    rows = text.split("\r\n")
    assert rows[:3] == [
        "!TRNS\tTRNSID\tTRNSTYPE\tDATE\tACCNT\tNAME\tCLASS\tAMOUNT\tDOCNUM\tMEMO",
        "!SPL\tSPLID\tTRNSTYPE\tDATE\tACCNT\tNAME\tCLASS\tAMOUNT\tDOCNUM\tMEMO",
        "!ENDTRNS",
    ]
    assert (
        rows[3]
        == "TRNS\t\tGENERAL JOURNAL\t11/27/2026\t1000 Cash\t\t\t62.96\tbk1-261127\tcash (DS-bk1-20261127)"
    )
    body = rows[3 : 3 + len(EXPECTED_LINES)]
    assert [r.split("\t")[0] for r in body] == ["TRNS"] + ["SPL"] * (len(EXPECTED_LINES) - 1)
    assert rows[3 + len(EXPECTED_LINES)] == "ENDTRNS"
    assert sum(int(Decimal(r.split("\t")[7]) * 100) for r in body) == 0
    assert "\t4000 Food Sales\t\t\t-75.00\t" in text


def test_iif_name_and_class_come_from_settings() -> None:
    settings = QuickBooksSettings(iif_name="Daily Sales", iif_class="location")
    body = iif_journal([_entry()], settings).split("\r\n")[3:-2]
    fields = [row.split("\t") for row in body if row != "ENDTRNS"]
    assert {(f[5], f[6]) for f in fields} == {("Daily Sales", "bk1")}
    by_dining = build_journal(
        worked_orders(),
        MAPPINGS,
        location_id=LOCATION,
        business_date=DAY,
        settings=JournalSettings(by_dining_option=True),
    )
    classes = {
        row.split("\t")[6]
        for row in iif_journal([by_dining], QuickBooksSettings(iif_class="dimension")).split("\r\n")[3:]
        if row.count("\t") > 5
    }
    assert {"dine_in", "takeout", "delivery"} <= classes


def test_iif_doc_numbers_stay_within_11_characters_and_stable() -> None:
    long = msgspec.structs.replace(_entry(), location_id="downtown-flagship-07")
    other = msgspec.structs.replace(_entry(), location_id="downtown-flagship-08")
    assert len(iif_doc_number(long)) == 11 and iif_doc_number(long) == iif_doc_number(long)
    assert iif_doc_number(long) != iif_doc_number(other)
    assert iif_doc_number(long).endswith("261127")


def test_iif_file_is_windows_1252_and_unencodable_characters_become_question_marks() -> None:
    from datetime import date

    from expediter.connectors.quickbooks.connector import render
    from expediter.model.location import Location
    from expediter.plugin.base import ExportRequest

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
