"""A replicated Kafka cluster on loopback: N ``KafkaBroker`` nodes sharing one quorum."""

from __future__ import annotations

import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Self

from infra.kafka.broker import KafkaBroker, free_ports, new_cluster_id
from infra.kafka.config import Quorum


class KafkaCluster:
    """``size`` nodes, each a broker and a voting controller in its own JVM, in
    ``work_dir/node-<id>``; topics are replicated ``replication`` times and an
    acknowledged write needs ``min_insync`` replicas. Unclean leader election is off.

    Each node is a ``KafkaBroker`` (``cluster.nodes[i]``) that a test may ``kill()``
    (SIGKILL), ``stop()`` (SIGTERM) and ``start()`` again with its ports and data.
    """

    def __init__(
        self,
        work_dir: Path | str | None = None,
        *,
        size: int = 3,
        replication: int = 3,
        min_insync: int = 2,
        heap: str = "256m",
        lib_dir: Path | None = None,
        startup_timeout: float = 180.0,
        stop_timeout: float = 15.0,
    ) -> None:
        self._owns_dir = work_dir is None
        self.work_dir = Path(work_dir or tempfile.mkdtemp(prefix="sp4n-kafka-cluster-")).resolve()
        ports = free_ports(size)
        quorum = Quorum(
            cluster_id=new_cluster_id(),
            voters={node: p.controller for node, p in enumerate(ports, start=1)},
            replication=replication,
            min_insync=min_insync,
        )
        # Ports and quorum only count when a node's folder is first formatted; a node
        # started again keeps what its server.properties says.
        self.nodes = [
            KafkaBroker(
                self.work_dir / f"node-{node}",
                lib_dir=lib_dir,
                startup_timeout=startup_timeout,
                stop_timeout=stop_timeout,
                heap=heap,
                node_id=node,
                quorum=quorum,
                ports=p,
            )
            for node, p in enumerate(ports, start=1)
        ]

    @property
    def bootstrap_servers(self) -> str:
        """Every node's address, comma-separated, as Kafka clients take them."""
        return ",".join(node.bootstrap_servers for node in self.nodes)

    def node(self, node_id: int) -> KafkaBroker:
        """The node with this ``node.id`` (what Kafka names as a partition's leader)."""
        return self.nodes[node_id - 1]

    def start(self) -> str:
        """Starts every node that is not running, waits until each serves, returns the
        bootstrap servers. The nodes start together: none serves before a majority of
        the controllers has elected a leader."""
        try:
            for node in self.nodes:
                node.launch()
            for node in self.nodes:
                node.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self.bootstrap_servers

    def stop(self) -> None:
        """Stops every node cleanly (SIGTERM, SIGKILL after its timeout). Idempotent.

        All at once: a node stopped last, alone, would wait for a quorum to let it go.
        """
        with ThreadPoolExecutor(len(self.nodes)) as pool:
            list(pool.map(lambda node: node.stop(), self.nodes))

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if self._owns_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)
