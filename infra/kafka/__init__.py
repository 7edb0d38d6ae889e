"""A real Apache Kafka 4 broker for development, tests and CI.

The jars come from Maven Central through ``mvn`` (see ``pom.xml``); the broker
runs as one KRaft node (broker and controller together) on 127.0.0.1. Use
``KafkaBroker`` from Python, or ``python -m infra.kafka`` from a shell;
``KafkaCluster`` runs several such nodes as one replicated cluster.
"""

from infra.kafka.broker import KafkaBroker
from infra.kafka.cluster import KafkaCluster
from infra.kafka.errors import KafkaInfraError
from infra.kafka.jars import fetch_jars, jars_ready

__all__ = ["KafkaBroker", "KafkaCluster", "KafkaInfraError", "fetch_jars", "jars_ready"]
