"""The nodes' connectors as the hub builds them: once, for the app and the CLI alike.

``create_app``, ``sp4n-hub sync`` and ``sp4n-hub replay`` serve the same node
table through the same connectors; this is the one place that says how.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors.config import NodeTable
from connectors.federation import Federation
from connectors.protocol import Dependencies
from connectors.registry import default_registry
from hub.ingest.pull import HubDirectory, node_table_for
from hub.settings import Settings
from hub.store.database import Database


def build_federation(
    db: Database,
    settings: Settings,
    env: Mapping[str, str],
    node_table: NodeTable | None = None,
) -> Federation:
    """Every node's connector, built and not started.

    ``node_table`` if given, else the table file of the settings, whose
    ``${NAME}`` placeholders and credentials are read from ``env``. A bad table
    raises ConfigError naming the node and the key.
    """
    table = node_table or node_table_for(env, settings.node_table)
    return default_registry().build(table, Dependencies(directory=HubDirectory(db)))
