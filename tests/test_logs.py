"""``expediter.logs``: one stream, one format, whoever logs (a real serve process is in
tests/web/test_logs.py)."""

from __future__ import annotations

import io
import json
import logging
import re
import warnings

import structlog

from expediter.logs import REQUEST_ID, LogFormat, configure_logging


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_every_source_is_one_json_line_with_the_request_id() -> None:
    stream = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        configure_logging("info", LogFormat.JSON, stream)
        token = REQUEST_ID.set("till-7")
        try:
            structlog.get_logger("expediter.test").info("hub_event", flow="sales")
            logging.getLogger("asyncssh").info("Opening SSH connection to %s", "127.0.0.1")
            logging.getLogger("uvicorn.access").info(
                '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "POST", "/api/v1/orders", "1.1", 202
            )
            warnings.warn("an old library speaks", UserWarning, stacklevel=1)
        finally:
            REQUEST_ID.reset(token)
        logging.captureWarnings(False)
    hub, ssh, access, warning = lines(stream)
    assert (hub["event"], hub["flow"], hub["logger"]) == ("hub_event", "sales", "expediter.test")
    assert ssh["event"] == "Opening SSH connection to 127.0.0.1" and ssh["logger"] == "asyncssh"
    assert (access["event"], access["method"], access["path"], access["status"]) == (
        "http_request",
        "POST",
        "/api/v1/orders",
        202,
    )
    assert "an old library speaks" in str(warning["event"]) and warning["logger"] == "py.warnings"
    assert {line["request_id"] for line in (hub, ssh, access, warning)} == {"till-7"}


def test_auto_is_json_off_a_terminal_and_console_on_one() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    piped, terminal = io.StringIO(), Terminal()
    for stream in (piped, terminal):
        configure_logging("info", LogFormat.AUTO, stream)
        structlog.get_logger("expediter.test").info("started", port=8080)
    assert json.loads(piped.getvalue())["event"] == "started"
    shown = re.sub(r"\x1b\[[0-9;]*m", "", terminal.getvalue())  # without its colours
    assert "started" in shown and "port=8080" in shown and not shown.lstrip().startswith("{")
