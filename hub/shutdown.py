"""How the lifespan stops what it started: each step bounded, so that shutting down
never hangs on one part (a Kubernetes pod has its termination grace, then SIGKILL)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

_log = logging.getLogger(__name__)


async def stop_loop(task: asyncio.Task[None], stop: asyncio.Event, grace: float = 15) -> None:
    """Asks a loop to stop; cancels it if it has not within ``grace`` seconds, and leaves
    it behind (logged) if it has not honoured the cancellation ``grace`` seconds later:
    shutting down never hangs on one loop. A loop's own error is raised."""
    stop.set()
    await asyncio.wait({task}, timeout=grace)
    if not task.done():
        _log.warning("%s did not stop within %ss: cancelled", task.get_name(), grace)
        task.cancel()
        await asyncio.wait({task}, timeout=grace)
        if not task.done():
            _log.error("%s ignored its cancellation for %ss: left behind", task.get_name(), grace)
            return
    if not task.cancelled():
        task.result()


async def bounded(name: str, step: Callable[[], Awaitable[None]], grace: float = 60) -> None:
    """Runs a shutdown step, given up on (logged) if it has not finished within ``grace``."""
    try:
        async with asyncio.timeout(grace):
            await step()
    except TimeoutError:
        _log.error("%s did not finish within %ss: shutting down without it", name, grace)
