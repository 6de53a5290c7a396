"""Request bodies: read with a cap, and what to tell a sender whose body cannot be read as JSON.

Every route's body is read through :func:`read_body`, which stops at :data:`MAX_BODY_BYTES`
whatever the request declared (a chunked upload declares nothing), so an oversized body is
answered ``413`` before any of it is decoded, stored or passed on. The order hot path calls it
itself (:func:`expediter.web.api.raw_asgi`); :class:`expediter.web.app.HubApp` reads the body of
every other request before routing and hands the route the bytes read.
"""

from __future__ import annotations

import msgspec
from starlette.types import Message, Receive, Send

MAX_BODY_BYTES = 1_048_576
"""No request the hub answers needs more than 1 MiB (a large order is about 10 KB)."""
BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""No route reads a body sent with these: it is never read, so never stored."""


class BodyTooLarge(Exception):
    """The body grew past :data:`MAX_BODY_BYTES` while it was read."""


async def read_body(
    receive: Receive, first: Message | None = None, limit: int = MAX_BODY_BYTES
) -> bytes | None:
    """The whole body, or ``None`` when the client went away first; :class:`BodyTooLarge` as soon
    as more than ``limit`` bytes arrived (the rest is never read). ``first``: the request's first
    event, when the caller received it already (see :func:`single_chunk`)."""
    event = first if first is not None else await receive()
    if event["type"] == "http.disconnect":
        return None
    body: bytes = event.get("body", b"")
    if not event.get("more_body", False):  # one chunk, the usual case: that bytes object, no copy
        if len(body) > limit:
            raise BodyTooLarge
        return body
    chunks, size = [body], len(body)
    while True:
        event = await receive()
        if event["type"] == "http.disconnect":
            return None
        chunk = event.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not event.get("more_body", False):
            return b"".join(chunks)


def single_chunk(event: Message) -> bytes | None:
    """The body when ``event`` carries all of it within the limit (the usual request: one chunk),
    else ``None`` (then :func:`read_body` reads on). The order hot path looks here first: a call
    less per request than awaiting :func:`read_body`."""
    if event["type"] != "http.request" or event.get("more_body", False):
        return None
    body: bytes = event.get("body", b"")
    return body if len(body) <= MAX_BODY_BYTES else None


def declared_length(headers: list[tuple[bytes, bytes]]) -> int:
    for name, value in headers:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


TOO_LARGE = msgspec.json.encode(
    {
        "error": f"the request body is larger than {MAX_BODY_BYTES // 1_048_576} MiB",
        "where": "body",
        "fix": "send one order, punch or event per request",
    }
)


async def send_too_large(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(TOO_LARGE)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": TOO_LARGE})


def replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the route ``body`` (already read) and then whatever the connection
    says next (a disconnect, for a streaming response that listens for one)."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def unreadable(exc: Exception) -> tuple[str, str]:
    """(what is wrong, how to fix it) for a body the JSON decoder could not read: bytes that are
    not UTF-8, nesting deeper than the decoder goes, or malformed JSON."""
    if isinstance(exc, UnicodeDecodeError):
        return (
            f"the body is not valid UTF-8 (byte {exc.start} cannot start or continue a character)",
            "encode the JSON as UTF-8",
        )
    if isinstance(exc, RecursionError):
        return "the JSON is nested too deeply to read", "send the record with its usual nesting"
    return f"the body is not valid JSON: {exc}", "send a JSON object"


UNREADABLE = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)
"""What decoding a JSON body raises when the bytes themselves are the problem."""
