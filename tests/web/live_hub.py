"""A whole running hub (the runtime and every web page) served by a real uvicorn on a loopback
port, in its own thread, for browser tests. The test thread hands it work through
:meth:`LiveHub.call` (the coroutine runs on the hub's own event loop). :class:`LiveApp` serves an
app the test built itself (its lifespan starts the hub)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, Self, TypeVar

import uvicorn

from expediter.catalog.schema import Catalog
from expediter.engine.deliveries import RetryPolicy
from expediter.engine.hub import Hub
from expediter.runtime import Runtime
from expediter.web.app import create_app
from tests.engine.helpers import TEST_CONNECTORS, Board, eventually

T = TypeVar("T")


class LiveApp:
    """An app under uvicorn on a loopback port, in its own thread; its lifespan starts the hub."""

    def __init__(self, app: Any) -> None:
        self.loop = asyncio.new_event_loop()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", timeout_graceful_shutdown=2
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name="app-uvicorn", daemon=True)

    def _run(self) -> None:
        self.loop.run_until_complete(self.server.serve())
        self.loop.close()

    def __enter__(self) -> Self:
        self.thread.start()
        self.call(eventually(lambda: self.server.started))
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def call(self, work: Coroutine[Any, Any, T], timeout: float = 20) -> T:
        """Run ``work`` on the server's loop, where the hub lives."""
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.servers[0].sockets[0].getsockname()[1]}"


class LiveHub:
    def __init__(self, catalog: Catalog) -> None:
        self.board = Board()
        self.loop = asyncio.new_event_loop()
        hub = Hub(catalog, connectors=TEST_CONNECTORS, retry=RetryPolicy(base=0.001, cap=0.001))
        hub.services.extra["board"] = self.board
        self.runtime = Runtime(catalog, hub, schedule=False)
        app = create_app(hub, runtime=self.runtime)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", timeout_graceful_shutdown=2
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name="hub-uvicorn", daemon=True)
        self._ready = threading.Event()
        self.port = 0

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._serve())
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    async def _serve(self) -> None:
        serving = asyncio.create_task(self.server.serve())
        while not self.server.started and not serving.done():
            await asyncio.sleep(0.01)
        if self.server.started:
            self.port = self.server.servers[0].sockets[0].getsockname()[1]
        self._ready.set()
        await serving

    def start(self) -> LiveHub:
        self.thread.start()
        if not self._ready.wait(30) or not self.port:
            raise RuntimeError("uvicorn did not start")
        return self

    def call(self, work: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)

    @property
    def hub(self) -> Hub:
        return self.runtime.hub

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
