"""The HTTP server of the commands that must finish their own shutdown after it."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator

import uvicorn


class Server(uvicorn.Server):
    """uvicorn's server, minus its re-raising of SIGINT or SIGTERM after a graceful stop:
    the demo must still stop the sandbox and PostgreSQL, in order, after the hub, and a
    worker must exit with its own status (1 when a sync loop died)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM)
        for sig in signals:
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)
