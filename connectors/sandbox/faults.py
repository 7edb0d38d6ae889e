"""Fault injection, switched per node: 500s, hanging past any timeout, malformed payloads."""

from __future__ import annotations

import asyncio
import enum
from collections import Counter
from collections.abc import Iterable

from starlette.exceptions import HTTPException

NOT_A_TIME = "kemarin sore"


class Fault(enum.Enum):
    NONE = "NONE"
    ERROR = "ERROR"
    """Every call answers HTTP 500."""
    HANG = "HANG"
    """Every call waits until the fault is cleared or the sandbox stops."""
    MALFORMED = "MALFORMED"
    """Record lists come back with a broken update time."""


class Faults:
    """The per-node switches, plus a count of the calls each node received.

    ``delay``: seconds every call waits before it is answered, as a node system that
    takes that long per call (0: none; a benchmark sets it).
    """

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self._faults: dict[str, Fault] = {}
        self._released: dict[str, asyncio.Event] = {}
        self.calls: Counter[str] = Counter()

    def set(self, node: str, fault: Fault) -> None:
        if fault is Fault.NONE:
            self.clear(node)
            return
        self.clear(node)
        self._faults[node] = fault
        if fault is Fault.HANG:
            self._released[node] = asyncio.Event()

    def clear(self, node: str | None = None) -> None:
        """Clears one node's fault (or every node's); its hanging calls end with a 503."""
        nodes = list(self._faults) if node is None else [node]
        for code in nodes:
            self._faults.pop(code, None)
            released = self._released.pop(code, None)
            if released is not None:
                released.set()

    def get(self, node: str) -> Fault:
        return self._faults.get(node, Fault.NONE)

    async def gate(self, node: str) -> None:
        """Called first by every sandbox handler: counts the call, waits ``delay``, then
        misbehaves if told."""
        self.calls[node] += 1
        if self.delay > 0:
            await asyncio.sleep(self.delay)
        fault = self.get(node)
        if fault is Fault.ERROR:
            raise HTTPException(500, f"sandbox: injected failure on node {node}")
        if fault is Fault.HANG:
            await self._released[node].wait()
            raise HTTPException(503, f"sandbox: node {node} stopped hanging")

    def malformed(self, node: str) -> bool:
        return self.get(node) is Fault.MALFORMED


def corrupt(records: Iterable[dict[str, object]], time_keys: tuple[str, ...]) -> None:
    """Breaks the first record the way real systems do: a time no parser accepts."""
    for record in records:
        for key in time_keys:
            if key in record:
                record[key] = NOT_A_TIME
        return
