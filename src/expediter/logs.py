"""One structured log stream: the hub's own events, and the lines of the libraries it runs on.

structlog's events and the standard library's records (uvicorn's server and access lines,
asyncssh's connection lines, Python's warnings, anything else that logs) go through one handler
and one formatter
(:class:`structlog.stdlib.ProcessorFormatter`), so every line has the same shape: ``timestamp``,
``level``, ``logger``, ``event`` and its fields. The lines are JSON when the stream is not a
terminal (a file, a pipe, journald) or when asked (``--log-format json`` or
``EXPEDITER_LOG_FORMAT=json``); on a terminal they are coloured key=value lines.

A request's id (:data:`REQUEST_ID`, set by the web app from the ``X-Request-Id`` header or
generated) is in every line logged while the request is handled, uvicorn's access line included.
Payloads are never passed to a logger, so they never reach a log.
"""

from __future__ import annotations

import logging
import os
import sys
from contextvars import ContextVar
from enum import StrEnum
from typing import IO, Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from expediter.model.cards import mask_card_numbers_in_log

REQUEST_ID: ContextVar[str | None] = ContextVar("expediter_request_id", default=None)
"""The id of the HTTP request being handled in this task, if any."""
FORMAT_ENV = "EXPEDITER_LOG_FORMAT"
LIBRARY_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "asyncssh")
"""Libraries that install or expect handlers of their own: their records go to the one stream."""


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def number(self) -> int:
        return int(getattr(logging, self.name))


class LogFormat(StrEnum):
    AUTO = "auto"
    """JSON unless the stream is a terminal."""
    JSON = "json"
    CONSOLE = "console"


def add_request_id(logger: WrappedLogger, method: str, event: EventDict) -> EventDict:
    request_id = REQUEST_ID.get()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    return event


def access_fields(logger: WrappedLogger, method: str, event: EventDict) -> EventDict:
    """uvicorn's access line as fields (client, method, path, status), not a sentence; the
    positional arguments of other libraries' lines are already in their message."""
    args = event.pop("positional_args", ())
    record = event.get("_record")
    if record is not None and record.name == "uvicorn.access" and len(args) == 5:
        client, http_method, path, version, status = args
        event.update(
            event="http_request", client=client, method=http_method, path=path, http=version, status=status
        )
    return event


SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    add_request_id,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


class _StreamHandler(logging.StreamHandler[IO[str]]):
    """A handler on a stream, or on whatever ``sys.stderr`` is at each line (a test runner swaps
    it while a command runs; a handler holding the old one would write to a closed file)."""

    def __init__(self, stream: IO[str] | None) -> None:
        super().__init__(stream or sys.stderr)
        self._fixed = stream

    @property
    def stream(self) -> IO[str]:
        return self._fixed if self._fixed is not None else sys.stderr

    @stream.setter
    def stream(self, value: IO[str]) -> None:
        """``StreamHandler.__init__`` assigns the stream; the property above decides."""


def wants_json(fmt: LogFormat | str, stream: IO[str]) -> bool:
    chosen = LogFormat(fmt)
    if chosen is LogFormat.AUTO:
        chosen = LogFormat(os.environ.get(FORMAT_ENV, LogFormat.AUTO) or LogFormat.AUTO)
    if chosen is LogFormat.AUTO:
        return not stream.isatty()
    return chosen is LogFormat.JSON


def configure_logging(
    level: LogLevel | str = LogLevel.INFO,
    fmt: LogFormat | str = LogFormat.AUTO,
    stream: IO[str] | None = None,
) -> None:
    """Route every log line of the process to ``stream`` (default: standard error) in one format."""
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if wants_json(fmt, stream or sys.stderr)
        else structlog.dev.ConsoleRenderer(colors=(stream or sys.stderr).isatty())
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*SHARED, access_fields],
        pass_foreign_args=True,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            mask_card_numbers_in_log,  # after the traceback is text: it is masked too
            renderer,
        ],
    )
    handler = _StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.set_name("expediter")
    numeric = LogLevel(level).number
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if h.get_name() != "expediter"] + [handler]
    root.setLevel(numeric)
    for name in LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.handlers = []
        library.propagate = True
        library.setLevel(logging.NOTSET)  # the root's level decides (a server run before may have set one)
    # A library's warning is a line of the stream, not bare text. Hooked anew each time: a
    # second ``captureWarnings(True)`` does nothing, even when the hook has been replaced since.
    logging.captureWarnings(False)
    logging.captureWarnings(True)
    structlog.configure(
        processors=[*SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        cache_logger_on_first_use=True,
    )


def uvicorn_options() -> dict[str, Any]:
    """What uvicorn needs so that it keeps to this stream (it installs its own handlers else)."""
    return {"log_config": None}
