"""``expediter serve [CONFIG]``: run the hub for real (HTTP API, deliveries, every web module).

With ``--workers N`` the hub runs as N processes, each with its **own** listening socket bound
with ``SO_REUSEPORT`` to the same address, so the kernel shares incoming connections out evenly
between them (measured: uvicorn's own ``--workers`` shares one listening socket, and the 50
connections of a benchmark landed 45/5, leaving one process saturated and the other idle).
The processes share the database (group commit through a file lock); one of them claims
deliveries, the kitchen and the scheduler (see :meth:`expediter.engine.hub.Hub.claim_deliveries`).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
from multiprocessing.connection import wait
from pathlib import Path
from typing import Annotated, Any

import structlog
import typer

from expediter.commands.common import CatalogArgument, CatalogOption, catalog_path
from expediter.logs import LogFormat, LogLevel, configure_logging, uvicorn_options
from expediter.plugin.base import Capability
from expediter.plugin.registry import systems_offering

log = structlog.get_logger("expediter.serve")

BACKLOG = 2048


def listening_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A bound TCP socket (not yet listening: uvicorn calls ``listen`` with its backlog).
    ``reuse_port`` lets each worker process bind its own socket to the same address."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def run_worker(config: Path, sock: socket.socket, options: dict[str, Any], *, shared: bool = False) -> None:
    """One hub process: its own runtime (storage, services) and server on ``sock``
    (:class:`~expediter.web.server.HubServer`: SIGTERM ends the screens' live feeds, then the hub).
    ``shared``: other hub processes write to the same database (``--workers N``), so this one
    commits on its event loop while commits are quick (see ``SqliteStorage.inline_commit``)."""
    import uvicorn

    from expediter.runtime import Runtime
    from expediter.storage.sqlite import SqliteStorage
    from expediter.web.app import create_app, read_catalog
    from expediter.web.server import HubServer

    runtime = Runtime(read_catalog(config), heartbeat=True)
    if shared and isinstance(runtime.hub.storage, SqliteStorage):
        runtime.hub.storage.inline_commit = True
    app = create_app(runtime.hub, runtime=runtime, whole_process=True)
    server = HubServer(uvicorn.Config(app, backlog=BACKLOG, **options))
    server.run(sockets=[sock])
    if not server.started:
        raise SystemExit(3)  # the hub did not start (uvicorn logged why)


def _worker_main(config: Path, first: socket.socket, index: int, options: dict[str, Any]) -> None:
    """A forked worker: the first one serves the socket the parent bound; the others close their
    inherited copy of it (else it would outlive worker 0 and take connections nobody accepts)
    and bind their own on the same address."""
    if index == 0:
        sock = first
    else:
        host, port = first.getsockname()[:2]
        first.close()
        sock = listening_socket(host, port, reuse_port=True)
    run_worker(config, sock, options, shared=True)


def wants_access_lines(log_level: LogLevel) -> bool:
    return log_level.number <= logging.INFO


def _announce(config: Path, host: str, port: int, workers: int) -> None:
    """Said once the port is bound, so ``--port 0`` shows the port actually used."""
    log.info("serving", catalog=str(config), url=f"http://{host}:{port}/", processes=workers)


def run_workers(config: Path, host: str, port: int, workers: int, options: dict[str, Any]) -> int:
    """Fork ``workers`` processes, each with its own SO_REUSEPORT socket; wait for them.

    The parent binds the first socket itself, so a busy port fails here, once, and port 0 is
    resolved to one real port that every worker then shares. SIGINT/SIGTERM are passed on; when
    one worker exits, the others are stopped too (a supervisor such as systemd restarts the hub).
    Returns 0 after a requested stop, else the failing worker's exit code."""
    first = listening_socket(host, port, reuse_port=True)
    port = first.getsockname()[1]
    _announce(config, host, port, workers)
    context = multiprocessing.get_context("fork")  # nothing runs yet: no threads, no loop
    processes = []
    for index in range(workers):
        process = context.Process(
            target=_worker_main,
            args=(config, first, index, options),
            name=f"expediter-worker-{index}",
        )
        process.start()
        processes.append(process)
    first.close()

    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    wait([process.sentinel for process in processes])
    asked = stopping  # a worker ended because we passed a signal on, or on its own
    stop(signal.SIGTERM, None)
    for process in processes:
        process.join()
    return max(_exit_code(process.exitcode, asked) for process in processes)


def _exit_code(code: int | None, asked: bool) -> int:
    """A worker asked to stop ends with 0 after a clean shutdown (:class:`HubServer` does not
    re-raise the signal as plain uvicorn does); one killed by SIGTERM/SIGINT was stopped by
    someone else: success only when we passed the signal on."""
    if code is None or code == 0:
        return 0
    if code in (-signal.SIGTERM, -signal.SIGINT):
        return 0 if asked else 1
    return code if code > 0 else 1


def serve(
    argument: CatalogArgument = None,
    host: Annotated[
        str | None, typer.Option(help="Listen address (default: the catalog's hub.host).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (default: the catalog's hub.port).")] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Processes sharing the database; one of them runs deliveries.")
    ] = 1,
    log_level: Annotated[
        LogLevel,
        typer.Option(help="debug, info, warning or error: the least a line must matter to be logged."),
    ] = (LogLevel.INFO),
    log_format: Annotated[
        LogFormat,
        typer.Option(
            help="json, console, or auto: JSON unless standard error is a terminal"
            " (or as $EXPEDITER_LOG_FORMAT says)."
        ),
    ] = LogFormat.AUTO,
    access_log: Annotated[
        bool, typer.Option(help="A log line per HTTP request (method, path, status, request id).")
    ] = True,
    catalog_file: CatalogOption = None,
) -> None:
    """Run the hub: the HTTP API, the delivery worker and every web module, on one port."""
    from expediter.commands.catalog import checked_or_exit
    from expediter.web.protocol import HttpProtocol

    config = catalog_path(catalog_file, argument)

    configure_logging(log_level, log_format)
    catalog = checked_or_exit(config)  # what `expediter check` refuses never starts
    listen_host = host or catalog.hub.host
    listen_port = catalog.hub.port if port is None else port
    options: dict[str, Any] = {
        # uvicorn builds each access line's arguments even when its level is off: only when shown.
        "access_log": access_log and wants_access_lines(log_level),
        "log_level": str(log_level),
        **uvicorn_options(),
        "http": HttpProtocol,  # httptools, each response in one write
        "loop": "uvloop",
        "server_header": False,  # says nothing a client needs; one header less per response
    }
    if workers > 1 and systems_offering(catalog, Capability.KITCHEN_SCREENS):
        raise typer.BadParameter(
            "the kitchen screens live in one process (their live feed and bump calls must reach the"
            " same kitchen); run with --workers 1, or serve the screens from a catalog without them",
            param_hint="--workers",
        )
    if workers == 1:
        sock = listening_socket(listen_host, listen_port, reuse_port=False)
        _announce(config, listen_host, sock.getsockname()[1], 1)
        run_worker(config, sock, options)
        return
    code = run_workers(config.resolve(), listen_host, listen_port, workers, options)
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
