"""Settings of the ministry view, read from the environment with the hub's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from hub.errors import ConfigError

N = TypeVar("N", int, float)


@dataclass(frozen=True)
class MinistrySettings:
    """Suppression threshold and the auto-close loop's pace."""

    suppress_below: int = 5
    """Groups with fewer reports are suppressed in every figure and export."""
    auto_close_interval: float = 300.0
    """Seconds between two auto-close passes."""
    auto_close_batch: int = 200
    """Reports closed at most per pass; the next pass takes the rest."""

    def __post_init__(self) -> None:
        if not 1 <= self.suppress_below <= 1000:
            raise ConfigError(
                f"SP4N_MINISTRY_SUPPRESS_BELOW must be 1..1000, got {self.suppress_below}"
            )
        if not 1 <= self.auto_close_interval <= 86_400:
            raise ConfigError(
                "SP4N_MINISTRY_AUTO_CLOSE_INTERVAL must be 1..86400 seconds, "
                f"got {self.auto_close_interval}"
            )
        if not 1 <= self.auto_close_batch <= 10_000:
            raise ConfigError(
                f"SP4N_MINISTRY_AUTO_CLOSE_BATCH must be 1..10000, got {self.auto_close_batch}"
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> MinistrySettings:
        """Reads ``SP4N_MINISTRY_*``; a bad value names its variable."""
        return cls(
            suppress_below=_number(env, "SP4N_MINISTRY_SUPPRESS_BELOW", cls.suppress_below, int),
            auto_close_interval=_number(
                env, "SP4N_MINISTRY_AUTO_CLOSE_INTERVAL", cls.auto_close_interval, float
            ),
            auto_close_batch=_number(
                env, "SP4N_MINISTRY_AUTO_CLOSE_BATCH", cls.auto_close_batch, int
            ),
        )


def _number(env: Mapping[str, str], name: str, default: N, kind: type[N]) -> N:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
