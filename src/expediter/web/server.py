"""The HTTP server the hub runs on: uvicorn's, ending the screens' live feeds when it stops.

Why: on SIGTERM uvicorn stops accepting, then waits for every response in flight to finish before
it runs the app's lifespan shutdown. A kitchen screen's server-sent event stream never finishes by
itself (it sends a heartbeat every few seconds), so with one screen connected the hub never stopped.
:class:`HubServer` tells the app first (:meth:`expediter.web.app.HubApp.begin_shutdown`): the live
feeds end cleanly, the screens' browsers retry, and the stop goes on as usual.

It also ends the process with exit code 0 after a requested stop, rather than re-raising the
signal that stopped it as uvicorn does (a supervisor reads "killed by SIGTERM" as a crash in
some setups; ``expediter serve --workers N`` already returned 0).
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import uvicorn


class HubServer(uvicorn.Server):
    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        begin = getattr(self.config.app, "begin_shutdown", None)
        if callable(begin):
            begin()
        await super().shutdown(sockets=sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            self._captured_signals.clear()  # handled: the stop was clean, nothing to re-raise
