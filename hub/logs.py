"""Logs for people: a client library that repeats itself is throttled; and logs for
machines: one JSON object a line, carrying the ids of what it is about.

``bound(request_id=..., event_id=..., report_id=..., node=...)`` puts ids on every
line logged inside it (a context variable, so each request's or event's task has
its own); ``RequestIds`` binds each HTTP request's id (the caller's ``X-Request-Id``
or a new one, answered in the same header); ``JsonLines`` writes a record with its
bound ids and, while tracing, its trace and span ids (``SP4N_LOG_FORMAT=json``).

While a broker is down, aiokafka logs every failed connection attempt of every
consumer and producer, thousands of lines a second. ``Throttle`` lets each kind
of line (its logger, level and message template) through a few times a window
and then says how many it held back; the hub's own loops say what is wrong and
since when (``hub.outages``).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


_FIELDS: contextvars.ContextVar[tuple[tuple[str, str], ...]] = contextvars.ContextVar(
    "sp4n_log_fields", default=()
)


@contextlib.contextmanager
def bound(**fields: object) -> Iterator[None]:
    """Every line logged inside carries these ids (None values are left out), beside
    the ones bound around it."""
    added = {name: str(value) for name, value in fields.items() if value is not None}
    token = _FIELDS.set(tuple({**dict(_FIELDS.get()), **added}.items()))
    try:
        yield
    finally:
        _FIELDS.reset(token)


class JsonLines(logging.Formatter):
    """One JSON object per record: time, level, logger, message, the bound ids, the
    trace's ids while a span is current, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_FIELDS.get())
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            line["trace_id"] = format(context.trace_id, "032x")
            line["span_id"] = format(context.span_id, "016x")
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def use_json_lines() -> None:
    """Every handler of the root logger writes ``JsonLines`` (called by the command
    line once it read the settings)."""
    for handler in logging.getLogger().handlers:
        handler.setFormatter(JsonLines())


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIds:
    """Binds each HTTP request's id for its log lines: the caller's ``X-Request-Id``
    when it is a plain token (letters, digits, ``._:-``, at most 128), else a new one;
    the answer carries it in the same header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        with bound(request_id=request_id):
            await self.app(scope, receive, send_with_id)
