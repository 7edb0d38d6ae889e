"""Logs for people: a client library that repeats itself is throttled.

While a broker is down, aiokafka logs every failed connection attempt of every
consumer and producer, thousands of lines a second. ``Throttle`` lets each kind
of line (its logger, level and message template) through a few times a window
and then says how many it held back; the hub's own loops say what is wrong and
since when (``hub.outages``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

THROTTLED_LIBRARIES = ("aiokafka", "asyncpg")
"""Loggers whose lines are throttled: the Kafka client's, and asyncpg's (its pool logs
a traceback each time it cannot refill)."""


@dataclass(slots=True)
class _Window:
    started: float
    passed: int = 0
    held: int = 0


class Throttle(logging.Filter):
    """At most ``burst`` lines of a kind per ``window`` seconds; the first line of the next
    window notes how many of that kind were held back."""

    def __init__(
        self, burst: int = 3, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.burst = burst
        self.window = window
        self.clock = clock
        self._windows: dict[tuple[str, int, str], _Window] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, str(record.msg))
        now = self.clock()
        window = self._windows.get(key)
        if window is None or now - window.started >= self.window:
            held = window.held if window is not None else 0
            window = self._windows[key] = _Window(now)
            if held:
                record.msg = f"{record.msg} [{held} more like this in the last {self.window:g} s]"
        if window.passed >= self.burst:
            window.held += 1
            return False
        window.passed += 1
        return True


def throttle_library_logs(throttle: Throttle | None = None) -> None:
    """Puts one ``Throttle`` on every logger of the throttled libraries (once per process).

    Called by the composition root, after those libraries were imported, since a
    filter on a parent logger does not see its children's records.
    """
    shared = throttle or Throttle()
    names = [
        name
        for name in list(logging.Logger.manager.loggerDict)
        if name.split(".")[0] in THROTTLED_LIBRARIES
    ]
    for name in {*THROTTLED_LIBRARIES, *names}:
        logger = logging.getLogger(name)
        if not any(isinstance(f, Throttle) for f in logger.filters):
            logger.addFilter(shared)
