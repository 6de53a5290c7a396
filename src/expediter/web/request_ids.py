"""Request ids: every HTTP request has one, in its answer and in every log line it causes.

A client's own ``X-Request-Id`` (a proxy's, a POS's) is kept when it is a plain token of up to 128
characters; otherwise (absent, or text that could forge log lines) the hub makes one. The id is
set in :data:`expediter.logs.REQUEST_ID` for the task that handles the request, so the hub's
log events and uvicorn's access line carry it, and it is sent back as ``X-Request-Id``.
"""

from __future__ import annotations

import random
import re

from starlette.types import Message, Scope, Send

from expediter.logs import REQUEST_ID

HEADER = b"x-request-id"
_TOKEN = re.compile(rb"[A-Za-z0-9._:/+=@-]{1,128}")


def request_id_of(scope: Scope) -> str:
    """The client's id when it is a plain token, else a new one (16 hex digits)."""
    for name, value in scope["headers"]:
        if name == HEADER:
            if _TOKEN.fullmatch(value):
                return value.decode("ascii")
            break
    return f"{random.getrandbits(64):016x}"  # reseeded in each forked worker by the random module


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
