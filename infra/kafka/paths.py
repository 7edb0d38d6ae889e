"""Where the jar cache and the CLI's broker live by default."""

from __future__ import annotations

import os
from pathlib import Path

# Overrides for CI caches or read-only checkouts.
LIB_ENV = "SP4N_KAFKA_LIB"
DIR_ENV = "SP4N_KAFKA_DIR"


def project_root() -> Path:
    """The checkout holding this package, or the current folder once installed."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").exists() else Path.cwd()


def default_lib_dir() -> Path:
    """``$SP4N_KAFKA_LIB``, else ``<project root>/.sp4n/kafka/lib``."""
    env = os.environ.get(LIB_ENV)
    return Path(env) if env else project_root() / ".sp4n" / "kafka" / "lib"


def default_broker_dir() -> Path:
    """``$SP4N_KAFKA_DIR``, else ``<project root>/.sp4n/kafka/broker`` (the CLI's broker)."""
    env = os.environ.get(DIR_ENV)
    return Path(env) if env else project_root() / ".sp4n" / "kafka" / "broker"
