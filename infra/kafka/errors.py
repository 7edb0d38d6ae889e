"""The one error type of this package."""

from __future__ import annotations


class KafkaInfraError(RuntimeError):
    """An expected failure (no Java, Maven failed, the broker did not come up, ...).

    The message is written for a person: it says what went wrong and names the
    log file to read. The CLI prints it without a traceback.
    """
