"""A kitchen plus its KDS routes served by a real uvicorn on a loopback port, in its own thread.

The test thread talks to it over HTTP like a screen would, and hands it orders through
:meth:`LiveKitchen.call` (the coroutine runs on the server's own event loop).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import uvicorn
from starlette.applications import Starlette

from expediter.operations.kitchen import Kitchen
from expediter.web.kds import kitchen_routes
from tests.operations.kitchen.helpers import make_kitchen

T = TypeVar("T")


class LiveKitchen:
    def __init__(self, path: Path, **settings: Any) -> None:
        self.kitchen: Kitchen = make_kitchen(path, **settings)
        self.loop = asyncio.new_event_loop()
        app = Starlette(routes=kitchen_routes(self.kitchen, ["loc-1"]))
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", timeout_graceful_shutdown=2
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name="kds-uvicorn", daemon=True)
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
        await self.kitchen.start()
        serving = asyncio.create_task(self.server.serve())
        while not self.server.started and not serving.done():
            await asyncio.sleep(0.01)
        if self.server.started:
            self.port = self.server.servers[0].sockets[0].getsockname()[1]
        self._ready.set()
        await serving
        await self.kitchen.stop()

    def start(self) -> LiveKitchen:
        self.thread.start()
        if not self._ready.wait(10) or not self.port:
            raise RuntimeError("uvicorn did not start")
        return self

    def call(self, work: Coroutine[Any, Any, T], timeout: float = 10) -> T:
        """Run ``work`` on the server's loop (where the kitchen lives) and return its result."""
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    def disconnect(self, station: str) -> int:
        """End the server side of every live stream of ``station`` (a lost connection)."""

        async def cut() -> int:
            return self.kitchen.disconnect(station)

        return self.call(cut())

    def stop(self) -> None:
        for station in list(self.kitchen._subscribers):
            self.disconnect(station)
        self.server.should_exit = True
        self.thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
