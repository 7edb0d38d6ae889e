"""The files a KRaft node reads: ``server.properties`` and a log4j2 config."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Ports:
    """The two loopback ports of one combined broker+controller node."""

    broker: int
    controller: int


@dataclass(frozen=True)
class Quorum:
    """The peers of one node of a multi-node cluster, and the replication it enforces.

    Every node is a broker and a voting controller; ``voters`` maps each node id to
    its controller port (a static quorum, fixed when the cluster is formatted).
    """

    cluster_id: str
    voters: Mapping[int, int]
    replication: int
    min_insync: int


def server_properties(
    ports: Ports, data_dir: Path, *, node_id: int = 1, quorum: Quorum | None = None
) -> str:
    """One node: the only broker and controller, or a member of ``quorum``."""
    if quorum is None:
        controllers = {"controller.quorum.bootstrap.servers": f"{HOST}:{ports.controller}"}
        replication, min_insync = 1, 1
    else:
        voters = ",".join(f"{node}@{HOST}:{port}" for node, port in sorted(quorum.voters.items()))
        controllers = {"controller.quorum.voters": voters}
        replication, min_insync = quorum.replication, quorum.min_insync
    settings = {
        "process.roles": "broker,controller",
        "node.id": str(node_id),
        "listeners": f"PLAINTEXT://{HOST}:{ports.broker},CONTROLLER://{HOST}:{ports.controller}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{ports.broker}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        **controllers,
        "log.dirs": str(data_dir),
        # Internal topics are replicated like the others (once on a single node).
        "offsets.topic.replication.factor": str(replication),
        "transaction.state.log.replication.factor": str(replication),
        "transaction.state.log.min.isr": str(min_insync),
        "share.coordinator.state.topic.replication.factor": str(replication),
        "share.coordinator.state.topic.min.isr": str(min_insync),
        "default.replication.factor": str(replication),
        "min.insync.replicas": str(min_insync),
        # A replica that fell behind never becomes leader: acknowledged records stay.
        "unclean.leader.election.enable": "false",
        # Fewer partitions for the internal topics: the defaults (50) make the
        # first consumer group or transaction wait while 50 logs are created.
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.num.partitions": "1",
        "share.coordinator.state.topic.num.partitions": "1",
        "num.partitions": "1",
        # The first group join otherwise waits 3 s for more members.
        "group.initial.rebalance.delay.ms": "0",
        # Topics are created on purpose, so a typo fails instead of creating one.
        "auto.create.topics.enable": "false",
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def read_ports(server_properties_file: Path) -> Ports:
    """The ports written by ``server_properties``, so a restart keeps them."""
    text = server_properties_file.read_text()
    broker = re.search(r"^listeners=.*PLAINTEXT://[^:,]+:(\d+)", text, re.MULTILINE)
    controller = re.search(r"^listeners=.*CONTROLLER://[^:,]+:(\d+)", text, re.MULTILINE)
    if broker is None or controller is None:
        raise ValueError(f"no listeners line in {server_properties_file}")
    return Ports(broker=int(broker.group(1)), controller=int(controller.group(1)))


def log4j2_properties(level: str) -> str:
    """Everything to stdout, which the broker runner sends to a log file."""
    return (
        "status = warn\n"
        "appender.out.type = Console\n"
        "appender.out.name = STDOUT\n"
        "appender.out.layout.type = PatternLayout\n"
        "appender.out.layout.pattern = [%d] %p %m (%c)%n\n"
        f"rootLogger.level = {level}\n"
        "rootLogger.appenderRef.out.ref = STDOUT\n"
    )
