"""Talking to QuickBooks Online (or any QBO-compatible URL): accounts, journal entries.

Posting a day's entry, in Intuit's Accounting API terms:

1. **Resolve account names to Ids.** ``AccountRef.value`` must be the account's Id. Names listed in
   ``settings.account_ids`` are taken as given; the others are looked up with the query endpoint
   (``select * from Account``, paged by ``STARTPOSITION``/``MAXRESULTS``), matching the account's
   ``Name``, its ``FullyQualifiedName``, or its ``AcctNum`` and ``Name`` together (``4000 Food
   Sales`` is account number 4000 named "Food Sales"). A name found nowhere stops the post with the
   accounts it is close to and the fix (:class:`UnresolvedAccounts`).
2. **Idempotent by document number.** ``select Id from JournalEntry where DocNumber = '…'`` first:
   an entry already there is the day posted before (a retry, a re-run), and is not posted again.
   The create also sends the document number as ``Request-Id`` (and ``requestid=``), QBO's own
   idempotency key, for a retry that crosses the query.
3. **Create** ``POST /v3/company/{realm}/journalentry`` with exact decimal amounts.

HTTP statuses are mapped by :func:`expediter.errors.error_for_status` only (5xx/408/429 retry,
other 4xx dead-letter); QuickBooks' own ``Fault`` message goes into the error. The token is never
logged nor put in an error.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

import httpx
import msgspec

from expediter.connectors.quickbooks.config import QuickBooksSettings
from expediter.connectors.quickbooks.mapping import (
    JSON,
    UnresolvedAccounts,
    qbo_doc_number,
    qbo_journal_entry,
)
from expediter.model.journal import JournalEntry
from expediter.plugin import TransientError, error_for_status, resolve_secret

PAGE = 1000
"""QBO's largest ``MAXRESULTS``."""


class QboAccount(msgspec.Struct, kw_only=True, rename="pascal"):
    """The fields of a QBO ``Account`` the name → Id lookup uses."""

    id: str
    name: str
    fully_qualified_name: str = ""
    acct_num: str = ""
    account_type: str = ""
    active: bool = True


class PostedJournal(msgspec.Struct, kw_only=True):
    document_number: str
    remote_id: str
    url: str
    created: bool = True
    """False when QuickBooks had the document already (nothing was posted)."""


def _quoted(text: str) -> str:
    """A string literal of QBO's query language (quotes escaped with a backslash)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def account_keys(account: QboAccount) -> set[str]:
    """Every name a mapping may use for the account."""
    keys = {account.name, account.fully_qualified_name}
    if account.acct_num:
        keys |= {f"{account.acct_num} {account.name}", f"{account.acct_num} {account.fully_qualified_name}"}
    return {key.strip().casefold() for key in keys if key.strip()}


def match_accounts(names: Iterable[str], accounts: Iterable[QboAccount]) -> tuple[dict[str, str], list[str]]:
    """(name → Id for the names found, names not found). Active accounts win over inactive ones."""
    by_key: dict[str, str] = {}
    for account in sorted(accounts, key=lambda a: a.active):  # active last, so they win
        for key in account_keys(account):
            by_key[key] = account.id
    found: dict[str, str] = {}
    missing: list[str] = []
    for name in names:
        account_id = by_key.get(name.strip().casefold())
        if account_id is None:
            missing.append(name)
        else:
            found[name] = account_id
    return found, missing


def _fix_for(missing: list[str], accounts: list[QboAccount]) -> str:
    choices = sorted({a.fully_qualified_name or a.name for a in accounts})
    hints = []
    for name in missing:
        close = difflib.get_close_matches(name, choices, n=2, cutoff=0.5)
        hints.append(f"{name!r} (close: {', '.join(close)})" if close else repr(name))
    return (
        "create the accounts in QuickBooks, or map each name to its Id under"
        f" [systems.settings.account_ids]: {'; '.join(hints)}"
    )


class QuickBooksClient:
    def __init__(
        self, settings: QuickBooksSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.settings = settings
        self._transport = transport

    def company_url(self) -> str:
        return f"{self.settings.base_url.rstrip('/')}/v3/company/{self.settings.realm_id}"

    def journal_url(self) -> str:
        return f"{self.company_url()}/journalentry"

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {resolve_secret(self.settings.access_token)}",
            "Accept": "application/json",
        }

    async def _send(self, request: httpx.Request) -> dict[str, Any]:
        async with httpx.AsyncClient(
            transport=self._transport, timeout=self.settings.timeout_seconds
        ) as http:
            try:
                response = await http.send(request)
            except httpx.TransportError as exc:
                raise TransientError(f"QuickBooks unreachable: {type(exc).__name__}") from exc
        error = error_for_status(
            response.status_code, _fault(response), location=response.headers.get("location")
        )
        if error is not None:
            raise error
        body: dict[str, Any] = response.json()
        return body

    async def query(self, statement: str) -> dict[str, Any]:
        """``GET /query``: the ``QueryResponse`` object (empty when nothing matched)."""
        params = {"query": statement, "minorversion": str(self.settings.minor_version)}
        request = httpx.Request("GET", f"{self.company_url()}/query", params=params, headers=self._headers())
        response: dict[str, Any] = (await self._send(request)).get("QueryResponse", {})
        return response

    async def accounts(self) -> list[QboAccount]:
        """Every account of the company, page by page."""
        found: list[QboAccount] = []
        start = 1
        while True:
            page = await self.query(f"select * from Account STARTPOSITION {start} MAXRESULTS {PAGE}")
            rows = msgspec.convert(page.get("Account", []), list[QboAccount], strict=False)
            found += rows
            if len(rows) < PAGE:
                return found
            start += PAGE

    async def account_ids(self, names: Iterable[str]) -> dict[str, str]:
        """Name → Id for every name: ``settings.account_ids`` first, then the Account query;
        :class:`UnresolvedAccounts` (with the close names and the fix) for any left over."""
        wanted = sorted(set(names))
        ids = {
            name: self.settings.account_ids[name] for name in wanted if self.settings.account_ids.get(name)
        }
        rest = [name for name in wanted if name not in ids]
        if not rest:
            return ids
        accounts = await self.accounts()
        found, missing = match_accounts(rest, accounts)
        if missing:
            raise UnresolvedAccounts(missing, _fix_for(missing, accounts))
        return {**ids, **found}

    async def find_journal(self, doc_number: str) -> str | None:
        """The Id of the journal entry with this ``DocNumber``, if QuickBooks has one."""
        page = await self.query(
            f"select Id, DocNumber from JournalEntry where DocNumber = {_quoted(doc_number)}"
        )
        entries = page.get("JournalEntry", [])
        return str(entries[0].get("Id", "")) if entries else None

    async def post_journal(self, entry: JournalEntry) -> PostedJournal:
        """Post the day's entry once: resolve the accounts, skip it if QuickBooks has the document
        number already, else create it. ``TransientError`` / ``TerminalError`` by status."""
        number = qbo_doc_number(entry)
        ids = await self.account_ids(line.account for line in entry.lines)
        existing = await self.find_journal(number)
        if existing is not None:
            return PostedJournal(
                document_number=number, remote_id=existing, url=self.journal_url(), created=False
            )
        body = JSON.encode(qbo_journal_entry(entry, ids))
        headers = {**self._headers(), "Content-Type": "application/json", "Request-Id": number}
        params = {"requestid": number, "minorversion": str(self.settings.minor_version)}
        request = httpx.Request("POST", self.journal_url(), params=params, headers=headers, content=body)
        created = (await self._send(request)).get("JournalEntry", {})
        return PostedJournal(
            document_number=number, remote_id=str(created.get("Id", "")), url=self.journal_url()
        )


def _fault(response: httpx.Response) -> str:
    """QuickBooks' own words for an error (``Fault.Error[].Message``/``Detail``), short."""
    if response.status_code < 400:
        return ""
    try:
        errors = response.json().get("Fault", {}).get("Error", [])
        text = "; ".join(f"{e.get('Message', '')} {e.get('Detail', '')}".strip() for e in errors)
    except (ValueError, AttributeError):
        text = response.text
    return text[:300]


__all__ = [
    "PostedJournal",
    "QboAccount",
    "QuickBooksClient",
    "UnresolvedAccounts",
    "account_keys",
    "match_accounts",
]
