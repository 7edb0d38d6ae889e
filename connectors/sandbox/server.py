"""A real HTTP server on a loopback port, run inside the current event loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The sandbox runs beside the hub's own server: Ctrl-C belongs to the
        # process, not to whichever of several servers installed a handler last.
        yield


class LoopbackServer:
    """Serves one ASGI app on 127.0.0.1 (port 0: any free port)."""

    def __init__(self, app: ASGIApp, *, port: int = 0) -> None:
        self._app = app
        self._port = port
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted
        # sockets whose protocol says TCP, and without it Nagle meets delayed
        # ACKs and every response takes 40 ms.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self._port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=1,
        )
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                sock.close()
                await self._task  # raises why it could not start
                raise RuntimeError("sandbox server stopped while starting")
            await asyncio.sleep(0.01)
        # The socket now belongs to the asyncio server, which closes it on shutdown.

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        await self._task
        self._server, self._task = None, None
