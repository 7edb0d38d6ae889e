"""What the deploy-file tests share: where the files are, the variables the hub really
reads, and a deployment folder with its secrets written as an operator would."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from hub.security.keys import rotate
from hub.settings import Settings
from tests.fixtures.postgres import ROOT

DEPLOY = ROOT / "infra" / "deploy"
BIN = Path(sys.executable).parent
"""The virtual environment's scripts: the pinned validators (docker-compose, kubectl)."""


class _Recording(Mapping[str, str]):
    """An empty environment that notes every name it is asked for."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __contains__(self, name: object) -> bool:
        if isinstance(name, str):
            self.asked.add(name)
        return False


def hub_variables() -> set[str]:
    """Every environment variable ``Settings.from_env`` reads (the hub's own settings)."""
    env = _Recording()
    Settings.from_env(env)
    return env.asked


def with_operator_secrets(folder: Path, *, keys: bool = True) -> Path:
    """``folder`` after writing what an operator writes before the first start: the
    database URL, PostgreSQL's password, the nodes' variables and a signing key."""
    secrets = folder / "secrets"
    secrets.mkdir(parents=True, exist_ok=True)
    (secrets / "database_url").write_text("postgresql://sp4n:s3cret@postgres:5432/sp4n\n")
    (secrets / "postgres_password").write_text("s3cret\n")
    (secrets / "nodes.env").write_text("SANDBOX_LAPOR_URL=https://lapor.example\n")
    if keys:
        rotate(secrets / "keys")
    return folder


def deploy_copy(tmp_path: Path, part: str = "") -> Path:
    """A copy of ``infra/deploy`` (or one of its folders), so a test may write in it."""
    target = tmp_path / "deploy"
    shutil.copytree(DEPLOY / part if part else DEPLOY, target)
    return target
