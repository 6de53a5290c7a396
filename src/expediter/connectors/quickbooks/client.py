"""Posting a journal entry to QuickBooks Online (or any QBO-compatible URL).

The document number goes out as the ``Request-Id`` header and the ``requestid`` query parameter
(QBO's idempotency key), so a retried post of the same day is not booked twice. HTTP statuses are
mapped by :func:`expediter.errors.error_for_status` only; the token is never logged.
"""

from __future__ import annotations

import httpx
import msgspec

from expediter.catalog.secrets import resolve_secret
from expediter.connectors.quickbooks.config import QuickBooksSettings
from expediter.connectors.quickbooks.mapping import qbo_doc_number, qbo_journal_entry
from expediter.errors import TransientError, error_for_status
from expediter.operations.accounting.journal import JournalEntry


class PostedJournal(msgspec.Struct, kw_only=True):
    document_number: str
    remote_id: str
    url: str


class QuickBooksClient:
    def __init__(
        self, settings: QuickBooksSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.settings = settings
        self._transport = transport

    def journal_url(self) -> str:
        return f"{self.settings.base_url.rstrip('/')}/v3/company/{self.settings.realm_id}/journalentry"

    async def post_journal(self, entry: JournalEntry) -> PostedJournal:
        """Create the entry; ``TransientError``/``TerminalError`` on failure, by status."""
        request_id = qbo_doc_number(entry)
        headers = {
            "Authorization": f"Bearer {resolve_secret(self.settings.access_token)}",
            "Accept": "application/json",
            "Request-Id": request_id,
        }
        params = {"requestid": request_id, "minorversion": str(self.settings.minor_version)}
        body = qbo_journal_entry(entry, self.settings.account_ids)
        async with httpx.AsyncClient(
            transport=self._transport, timeout=self.settings.timeout_seconds
        ) as http:
            try:
                response = await http.post(self.journal_url(), json=body, headers=headers, params=params)
            except httpx.TransportError as exc:
                raise TransientError(f"QuickBooks unreachable: {type(exc).__name__}") from exc
        error = error_for_status(
            response.status_code, response.text[:300], location=response.headers.get("location")
        )
        if error is not None:
            raise error
        remote_id = str(response.json().get("JournalEntry", {}).get("Id", ""))
        return PostedJournal(document_number=request_id, remote_id=remote_id, url=self.journal_url())
