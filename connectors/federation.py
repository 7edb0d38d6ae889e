"""Every node's connector as one resource: started, stopped and observed together."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping

from connectors.protocol import Connector
from connectors.resilience import Health


class Federation:
    """The hub's connectors, keyed by node code."""

    def __init__(self, connectors: Mapping[str, Connector]) -> None:
        self.connectors = dict(connectors)

    def __getitem__(self, node: str) -> Connector:
        return self.connectors[node]

    def __iter__(self) -> Iterator[Connector]:
        return iter(self.connectors.values())

    def __len__(self) -> int:
        return len(self.connectors)

    async def start(self) -> None:
        """Starts every connector; if one fails, the started ones are stopped again."""
        started: list[Connector] = []
        try:
            for connector in self.connectors.values():
                await connector.start()
                started.append(connector)
        except BaseException:
            await _stop_all(reversed(started))
            raise

    async def stop(self) -> None:
        """Stops every connector, in reverse order; one failing stop does not skip the rest."""
        await _stop_all(reversed(list(self.connectors.values())))

    def health(self) -> list[Health]:
        return [c.health for c in self.connectors.values()]


async def _stop_all(connectors: Iterator[Connector]) -> None:
    results = await asyncio.gather(*(c.stop() for c in connectors), return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise errors[0]
