"""The one Starlette app: every web module adds its routes; the hub starts and stops with it.

Web modules are listed in :data:`WEB_MODULES`; each exposes ``routes(hub) -> list[BaseRoute]``,
and may expose ``fast_routes(hub)`` (raw ASGI endpoints answered before routing) and
``begin_shutdown(hub)`` (end what never finishes by itself, such as the screens' live feeds, when
the server starts to stop). A module not (yet) present is skipped, so the API runs on its own.
Every route collected is put behind the one door of :mod:`expediter.web.guard` (sessions,
devices, roles, CSRF, the audit log), and every request whose ``Host`` is not one of the hub's
names is refused before routing.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Protocol

import structlog
from starlette.applications import Starlette
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from expediter.catalog.schema import Catalog
from expediter.engine.hub import Hub
from expediter.web.bodies import (
    BODYLESS_METHODS,
    MAX_BODY_BYTES,
    BodyTooLarge,
    read_body,
    replaying,
    send_too_large,
)
from expediter.web.guard import protect
from expediter.web.people import allowed_hosts, host_name, people_of
from expediter.web.request_ids import tag_request

log = structlog.get_logger("expediter.web")
CONFIG_ENV = "EXPEDITER_CATALOG"
"""The catalog file a server process loads in :func:`app_from_env` (uvicorn ``--factory``)."""
OLD_CONFIG_ENV = "EXPEDITER_CONFIG"
"""The variable's earlier name, still read when ``EXPEDITER_CATALOG`` is not set."""
WEB_MODULES = (
    "expediter.web.api",
    "expediter.web.labor_api",
    "expediter.web.dashboard",
    "expediter.web.flows",
    "expediter.web.kds",
    "expediter.web.purchasing",
    "expediter.web.signin",
    "expediter.web.admin",
    "expediter.web.imports",
    "expediter.web.reconcile",
    "expediter.web.edges",
)


def collect_routes(hub: Hub, modules: tuple[str, ...] = WEB_MODULES) -> list[BaseRoute]:
    found: list[BaseRoute] = []
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # that part of the web app is not installed
            raise
        found.extend(module.routes(hub))
    return found


def _length_and_host(scope: Scope) -> tuple[int, str]:
    """The declared body length and the host name asked for, in one pass over the headers."""
    length, host = 0, ""
    for name, value in scope["headers"]:
        if name == b"content-length":
            length = int(value) if value.isdigit() else 0
        elif name == b"host":
            host = host_name(value.decode("latin-1"))
    return length, host


async def _refuse_host(host: str, send: Send) -> None:
    """400 for a name that is not the hub's: a page of another site whose name was pointed at
    this address (DNS rebinding) gets nothing."""
    body = (
        f"refused: {host or 'a request without a Host header'!s} is not a name of this hub; if it"
        " should be, add it to hub.allowed_hosts in the catalog\n"
    ).encode("utf-8", "replace")
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", b"%d" % len(body)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


LARGE_BODIES = {("PUT", "/imports/upload")}
"""The routes that read their own body, streamed to disk with their own cap (a file uploaded for
import, :mod:`expediter.web.imports`): no other request needs more than
:data:`~expediter.web.bodies.MAX_BODY_BYTES`."""


class HubApp(Starlette):
    """Starlette, plus a few raw ASGI endpoints answered before routing (the ingest hot path).

    Every request body is capped at :data:`~expediter.web.bodies.MAX_BODY_BYTES` while it is read:
    a declared ``Content-Length`` over it is answered 413 at once; the fast endpoints read with
    the cap themselves; for every other route the body is read (with the cap) before routing and
    the route is handed the bytes read. The routes of :data:`LARGE_BODIES` read their own body."""

    fast: dict[tuple[str, str], ASGIApp]
    shutdown_hooks: list[Callable[[], None]]
    hosts: frozenset[str] = frozenset()

    def begin_shutdown(self) -> None:
        """The server stops accepting: end the responses that would otherwise never finish (it
        waits for every response in flight before the lifespan shutdown stops the hub)."""
        for hook in self.shutdown_hooks:
            hook()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            length, host = _length_and_host(scope)
            if host not in self.hosts:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                else:
                    await _refuse_host(host, send)
                return
        if scope["type"] == "http":
            send = tag_request(scope, send)
            large = (scope["method"], scope["path"]) in LARGE_BODIES
            if not large and length > MAX_BODY_BYTES:
                await send_too_large(send)
                return
            handler = self.fast.get((scope["method"], scope["path"]))
            if handler is not None:
                await handler(scope, receive, send)
                return
            if scope["method"] not in BODYLESS_METHODS and not large:
                try:
                    body = await read_body(receive)
                except BodyTooLarge:
                    await send_too_large(send)
                    return
                if body is None:
                    return  # the client went away
                receive = replaying(body, receive)
        await super().__call__(scope, receive, send)


def collect_fast_routes(hub: Hub, modules: tuple[str, ...] = WEB_MODULES) -> dict[tuple[str, str], ASGIApp]:
    found: dict[tuple[str, str], ASGIApp] = {}
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        if hasattr(module, "fast_routes"):
            found.update(module.fast_routes(hub))
    return found


def collect_shutdown_hooks(hub: Hub, modules: tuple[str, ...] = WEB_MODULES) -> list[Callable[[], None]]:
    hooks: list[Callable[[], None]] = []
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        begin: Callable[[Hub], None] | None = getattr(module, "begin_shutdown", None)
        if begin is not None:
            hooks.append(functools.partial(begin, hub))
    return hooks


class Startable(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def create_app(
    hub: Hub, *, manage_hub: bool = True, runtime: Startable | None = None, whole_process: bool = False
) -> Starlette:
    """The hub's web app. Its lifespan starts and stops ``runtime`` (the hub with its services, see
    :class:`expediter.runtime.Runtime`), else the bare hub when ``manage_hub``.

    ``whole_process``: the app is what this process is for (``expediter serve``). Once started,
    everything built so far (modules, catalog, routes, the runtime) lives as long as the process,
    so it is moved out of the cyclic garbage collector's sight (:func:`gc.freeze`): otherwise its
    full passes walk all of it again and again while requests wait (measured on the ingest
    benchmark: durable p99 39 ms with them, 10 ms without). Not for tests, which build many apps
    in one process."""
    managed: Startable | None = runtime if runtime is not None else (hub if manage_hub else None)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if managed is not None:
            await managed.start()
            await _say_when_nobody_can_sign_in(hub)
        if whole_process:
            gc.freeze()
        try:
            yield
        finally:
            if managed is not None:
                await managed.stop()

    app = HubApp(routes=protect(collect_routes(hub), people_of(hub)), lifespan=lifespan)
    app.fast = collect_fast_routes(hub)
    app.shutdown_hooks = collect_shutdown_hooks(hub)
    app.hosts = allowed_hosts(hub.catalog.hub)
    app.state.hub = hub
    return app


async def _say_when_nobody_can_sign_in(hub: Hub) -> None:
    if await people_of(hub).users.count() == 0:
        log.warning(
            "no_users_yet",
            message="the dashboard refuses everyone until the first user is added; the API keeps working",
            fix="expediter users add NAME --role admin --all-locations --catalog <the catalog>",
        )


def read_catalog(path: str | Path) -> Catalog:
    """A catalog from TOML (the catalog loader) or from JSON (the same schema, for generated ones)."""
    from expediter.catalog.load import load_catalog
    from expediter.catalog.paths import anchor_to

    file = Path(path)
    return anchor_to(load_catalog(file), file.resolve().parent)


def app_from_env() -> Starlette:
    """For ``uvicorn --factory expediter.web.app:app_from_env`` (several worker processes): each
    process builds its own runtime on the catalog named by ``EXPEDITER_CATALOG``; only one of them
    runs the kitchen and the scheduler (see :meth:`Hub.claim_singletons`)."""
    from expediter.check.catalog import checked_catalog
    from expediter.runtime import Runtime

    catalog = checked_catalog(os.environ.get(CONFIG_ENV) or os.environ[OLD_CONFIG_ENV])
    runtime = Runtime(catalog, heartbeat=True)
    return create_app(runtime.hub, runtime=runtime, whole_process=True)
