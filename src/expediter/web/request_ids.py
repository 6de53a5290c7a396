"""Request ids: every HTTP request has one, in its answer and in every log line it causes.

A client's own ``X-Request-Id`` (a proxy's, a POS's) is kept when it is a plain token of up to 128
characters; otherwise (absent, or text that could forge log lines) the hub makes one. The id is
set in :data:`expediter.logs.REQUEST_ID` for the task that handles the request, so the hub's
log events and uvicorn's access line carry it, and it is sent back as ``X-Request-Id``.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets

from starlette.types import Message, Scope, Send

from expediter.logs import REQUEST_ID

HEADER = b"x-request-id"
_TOKEN = re.compile(rb"[A-Za-z0-9._:/+=@-]{1,128}")


class _Ids:
    """``<8 random hex digits>-<counter in hex>``: unique in a process, and across processes (a
    restart, each worker of ``--workers N``: a forked process draws its own prefix), at a
    fraction of a random draw's cost per request."""

    def __init__(self) -> None:
        self.restart()
        os.register_at_fork(after_in_child=self.restart)

    def restart(self) -> None:
        self.prefix = secrets.token_hex(4) + "-"
        self.counter = itertools.count(1)

    def new(self) -> str:
        return f"{self.prefix}{next(self.counter):x}"


_IDS = _Ids()
new_request_id = _IDS.new


def request_id_of(scope: Scope) -> str:
    """The client's id when it is a plain token, else a new one."""
    for name, value in scope["headers"]:
        if name == HEADER:
            if _TOKEN.fullmatch(value):
                return value.decode("ascii")
            break
    return new_request_id()


def tag_request(scope: Scope, send: Send) -> Send:
    """Note the request's id for the logs; return a ``send`` that adds it to the answer."""
    request_id = request_id_of(scope)
    REQUEST_ID.set(request_id)
    header = (HEADER, request_id.encode("ascii"))

    async def send_tagged(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), header]}
        await send(message)

    return send_tagged
