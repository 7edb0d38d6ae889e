"""The explicit ``kind -> factory`` registry that turns the node table into connectors."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from connectors.config import NodeConfig, NodeTable
from connectors.errors import UnknownKind
from connectors.federation import Federation
from connectors.graphql import GraphQLConnector
from connectors.lapor import LaporConnector
from connectors.open311 import Open311Connector
from connectors.postgres import PostgresConnector
from connectors.protocol import Connector, Dependencies
from connectors.push import PushConnector
from connectors.rest import RestConnector

Factory = Callable[[NodeConfig, Dependencies], Connector]


class Registry:
    """Which class serves which ``kind``; nothing registers itself at import time."""

    def __init__(self, factories: Mapping[str, Factory]) -> None:
        self._factories = dict(factories)

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self._factories)

    def create(self, config: NodeConfig, deps: Dependencies | None = None) -> Connector:
        """One node's connector; an unknown kind or a bad option fails naming the node."""
        factory = self._factories.get(config.kind)
        if factory is None:
            known = ", ".join(sorted(self._factories))
            raise UnknownKind(
                config.code, f"kind: unknown connector kind {config.kind!r} (known: {known})"
            )
        return factory(config, deps or Dependencies())

    def build(self, table: NodeTable, deps: Dependencies | None = None) -> Federation:
        """Every node's connector, built (not started) so that a bad table fails whole."""
        return Federation({config.code: self.create(config, deps) for config in table})


def default_registry() -> Registry:
    """The six kinds this package provides."""
    return Registry(
        {
            "open311": Open311Connector,
            "rest": RestConnector,
            "graphql": GraphQLConnector,
            "lapor": LaporConnector,
            "postgres": PostgresConnector,
            "push": PushConnector,
        }
    )
