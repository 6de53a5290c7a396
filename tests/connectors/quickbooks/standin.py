"""A QuickBooks Online stand-in answering with the shapes of Intuit's published responses.

Intuit's Accounting API reference: ``GET /v3/company/{realm}/query?query=...`` answers
``{"QueryResponse": {"Account": [...], "startPosition": 1, "maxResults": n}, "time": ...}`` (an
empty ``QueryResponse`` when nothing matches); ``POST .../journalentry`` answers
``{"JournalEntry": {..., "Id": ...}, "time": ...}``; errors are ``{"Fault": {"Error": [{"Message",
"Detail", "code"}], "type": ...}}``. Used at the transport seam (``httpx.MockTransport``) and, for
the engine's scheduled flow, behind a real HTTP server on loopback.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

TIME = "2026-11-28T05:00:00.000-08:00"


def account(account_id: str, name: str, number: str, kind: str, active: bool = True) -> dict[str, Any]:
    """An Account object as the QBO API returns it."""
    return {
        "Name": name,
        "SubAccount": False,
        "FullyQualifiedName": name,
        "Active": active,
        "Classification": {"Bank": "Asset", "Income": "Revenue"}.get(kind, "Liability"),
        "AccountType": kind,
        "AcctNum": number,
        "CurrentBalance": 0,
        "CurrentBalanceWithSubAccounts": 0,
        "CurrencyRef": {"value": "USD", "name": "United States Dollar"},
        "domain": "QBO",
        "sparse": False,
        "Id": account_id,
        "SyncToken": "0",
        "MetaData": {
            "CreateTime": "2026-01-02T10:00:00-08:00",
            "LastUpdatedTime": "2026-01-02T10:00:00-08:00",
        },
    }


WORKED_DAY_ACCOUNTS = [
    account("35", "Cash", "1000", "Bank"),
    account("36", "Visa Clearing", "1010", "Other Current Asset"),
    account("37", "Card Clearing", "1011", "Other Current Asset"),
    account("38", "DoorDash Clearing", "1020", "Other Current Asset"),
    account("41", "Sales Tax Payable", "2100", "Other Current Liability"),
    account("42", "Tips Payable", "2200", "Other Current Liability"),
    account("43", "Gift Card Liability", "2300", "Other Current Liability"),
    account("79", "Food Sales", "4000", "Income"),
    account("80", "Beverage Sales", "4100", "Income"),
    account("81", "Service Charges", "4500", "Income"),
    account("82", "Discounts", "4900", "Income"),
    account("83", "Comps", "4950", "Income"),
    account("84", "Refunds", "4960", "Income"),
    account("90", "Cash Over/Short", "6900", "Expense"),
    account("91", "Food Sales", "4001", "Income", active=False),
]


@dataclass
class StandIn:
    """Records every request; ``status`` fails every call with that HTTP status."""

    accounts: list[dict[str, Any]] = field(default_factory=lambda: list(WORKED_DAY_ACCOUNTS))
    journals: dict[str, dict[str, Any]] = field(default_factory=dict)
    status: int = 200
    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    next_id: int = 177

    def answer(
        self, method: str, url: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        self.requests.append((method, url, headers, body))
        if self.status != 200:
            fault = {
                "Message": "Service unavailable" if self.status >= 500 else "Refused",
                "Detail": "stand-in",
            }
            return self.status, {
                "Fault": {"Error": [{**fault, "code": str(self.status)}], "type": "SystemFault"}
            }
        if method == "GET" and urlsplit(url).path.endswith("/query"):
            return 200, self._query(parse_qs(urlsplit(url).query)["query"][0])
        if method == "POST" and urlsplit(url).path.endswith("/journalentry"):
            created = {**json.loads(body), "Id": str(self.next_id), "SyncToken": "0", "domain": "QBO"}
            self.next_id += 1
            self.journals[created["DocNumber"]] = created
            return 200, {"JournalEntry": created, "time": TIME}
        return 400, {
            "Fault": {"Error": [{"Message": "Unsupported", "Detail": url}], "type": "ValidationFault"}
        }

    def _query(self, statement: str) -> dict[str, Any]:
        if " from Account" in statement:
            start = int(re.search(r"STARTPOSITION (\d+)", statement).group(1))  # type: ignore[union-attr]
            size = int(re.search(r"MAXRESULTS (\d+)", statement).group(1))  # type: ignore[union-attr]
            page = self.accounts[start - 1 : start - 1 + size]
            body: dict[str, Any] = (
                {"Account": page, "startPosition": start, "maxResults": len(page)} if page else {}
            )
            return {"QueryResponse": body, "time": TIME}
        number = re.search(r"DocNumber = '([^']*)'", statement).group(1)  # type: ignore[union-attr]
        found = self.journals.get(number)
        body = {"JournalEntry": [found], "startPosition": 1, "maxResults": 1} if found else {}
        return {"QueryResponse": body, "time": TIME}

    def posts(self) -> list[dict[str, Any]]:
        return [json.loads(body) for method, _, _, body in self.requests if method == "POST"]

    def mock(self) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            status, payload = self.answer(
                request.method, str(request.url), dict(request.headers), request.content
            )
            return httpx.Response(status, json=payload)

        return httpx.MockTransport(handle)


class StandInServer:
    """The stand-in behind a real HTTP server on a loopback port (stopped by ``stop``)."""

    def __init__(self, stand_in: StandIn) -> None:
        self.stand_in = stand_in
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> StandInServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self.stand_in

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, method: str) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length) if length else b""
                url = f"http://{self.headers['Host']}{self.path}"
                status, payload = stand_in.answer(method, url, dict(self.headers), body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._reply("GET")

            def do_POST(self) -> None:
                self._reply("POST")

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler
