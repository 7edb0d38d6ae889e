"""Asks a broker for its cluster metadata over the Kafka wire protocol.

A listening port only means the socket server is up; a Metadata answer that
lists a broker means the node has joined its own cluster and can serve
clients. This is a few dozen lines of plain sockets rather than aiokafka so
that it works from blocking code, inside or outside an event loop.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

METADATA_API_KEY = 3
# Kafka 4 dropped Metadata v0-v3 (KIP-896); v4 is the oldest one left and the
# newest before the "flexible" encoding, so it stays simple to read.
METADATA_VERSION = 4
CORRELATION_ID = 0x5B4E
CLIENT_ID = b"sp4n-probe"


@dataclass(frozen=True)
class ClusterInfo:
    """What the Metadata answer says about the cluster."""

    cluster_id: str | None
    brokers: tuple[tuple[int, str, int], ...]  # (node id, host, port)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def take(self, fmt: str) -> int:
        (value,) = struct.unpack_from(fmt, self._data, self._at)
        self._at += struct.calcsize(fmt)
        return int(value)

    def string(self) -> str | None:
        length = self.take(">h")
        if length < 0:
            return None
        value = self._data[self._at : self._at + length].decode()
        self._at += length
        return value


def _metadata_request() -> bytes:
    header = (
        struct.pack(">hhih", METADATA_API_KEY, METADATA_VERSION, CORRELATION_ID, len(CLIENT_ID))
        + CLIENT_ID
    )
    # An empty topic list (not null, which means "all topics") and no auto-creation.
    body = struct.pack(">ib", 0, 0)
    payload = header + body
    return struct.pack(">i", len(payload)) + payload


def _receive(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("the broker closed the connection")
        chunks += chunk
    return bytes(chunks)


def cluster_info(host: str, port: int, *, timeout: float = 2.0) -> ClusterInfo:
    """One Metadata round trip; raises ``OSError`` when the broker cannot answer."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(_metadata_request())
        (size,) = struct.unpack(">i", _receive(sock, 4))
        reader = _Reader(_receive(sock, size))
    try:
        return _parse(reader)
    except (struct.error, UnicodeDecodeError) as exc:
        raise ConnectionError(f"malformed Metadata answer: {exc}") from exc


def _parse(reader: _Reader) -> ClusterInfo:
    if reader.take(">i") != CORRELATION_ID:
        raise ConnectionError("the broker answered another request")
    reader.take(">i")  # throttle_time_ms
    brokers = []
    for _ in range(reader.take(">i")):
        node_id = reader.take(">i")
        broker_host = reader.string() or ""
        broker_port = reader.take(">i")
        reader.string()  # rack
        brokers.append((node_id, broker_host, broker_port))
    return ClusterInfo(cluster_id=reader.string(), brokers=tuple(brokers))
