"""The connectors' one root error, with behaviour carried as flags.

Driver errors (httpx, asyncpg, JSON decoding) are wrapped at the edge into one
of these, so the hub never sees a third-party exception from a node.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Root of every error a connector raises on purpose.

    ``retryable``: trying the same call again may succeed (the resilience layer
    retries these, nothing else does). ``node_fault``: the failure says the node
    is unhealthy, so it counts towards opening that node's circuit.
    """

    code = "CONNECTOR"
    retryable = False
    node_fault = True

    def __init__(self, node: str | None, message: str) -> None:
        super().__init__(f"node {node}: {message}" if node else message)
        self.node = node
        self.message = message

    @property
    def extensions(self) -> dict[str, object]:
        """The structured per-source error a GraphQL answer carries for a live read."""
        return {"source": self.node, "code": self.code, "retryable": self.retryable}


class NodeTableError(ConnectorError):
    """The node table is wrong; the message names the node and the key."""

    code = "NODE_TABLE"
    node_fault = False


class UnknownKind(NodeTableError):
    """A node names a connector kind the registry does not have."""


class MalformedPayload(ConnectorError):
    """The node answered with data that breaks its own contract.

    Retrying gets the same bytes back, so it is not retryable; it does count
    against the node, since a node sending garbage is not healthy.
    """

    code = "MALFORMED_PAYLOAD"

    def __init__(self, node: str, field: str, problem: str) -> None:
        super().__init__(node, f"malformed payload: {field}: {problem}")
        self.field = field


class NodeUnavailable(ConnectorError):
    """The node could not be reached or answered with a server error."""

    code = "NODE_UNAVAILABLE"
    retryable = True


class NodeTimeout(NodeUnavailable):
    """The node did not answer within its timeout."""

    code = "NODE_TIMEOUT"


class CircuitOpen(ConnectorError):
    """The node's circuit is open: the call was not attempted at all."""

    code = "CIRCUIT_OPEN"
    retryable = True
    node_fault = False


class NodeRejected(ConnectorError):
    """The node answered and refused the request (a 4xx or an API-level error).

    The node is alive, so this does not count against its circuit.
    """

    code = "NODE_REJECTED"
    node_fault = False


class NodeNotFound(NodeRejected):
    """The node does not hold what was asked for (HTTP 404): a lookup's "no such report"."""


class NodeConflict(NodeRejected):
    """The node refused a conditional write: the report changed there since the hub
    read it (HTTP 409 or 412). Its staff's change stands; the next pull brings it."""


class NotSupported(ConnectorError):
    """The node's protocol or configuration cannot do what was asked."""

    code = "NOT_SUPPORTED"
    node_fault = False
