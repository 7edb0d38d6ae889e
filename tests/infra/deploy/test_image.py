"""The image definition: two stages, the wheel without dev dependencies, an unprivileged
user, no secret, a HEALTHCHECK on /healthz. No container engine runs here, so the image
is not built; instead the wheel is built from exactly what the Containerfile copies,
started with the image's entrypoint, command and environment, and asked what the
orchestrator asks (/healthz, /readyz, the HEALTHCHECK command itself)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tomllib
import uuid
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from hub.security.keys import rotate
from tests.fixtures.postgres import ROOT
from tests.infra.deploy.containerfile import Stage, exec_form, parse
from tests.infra.deploy.files import DEPLOY, hub_variables

CONTAINERFILE = DEPLOY / "Containerfile"
ENTRYPOINT = DEPLOY / "entrypoint.sh"


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse(CONTAINERFILE)[1]


def test_the_image_is_built_in_one_stage_and_runs_from_another(stages: list[Stage]) -> None:
    build, runtime = stages[0], stages[-1]
    assert len(stages) == 2
    assert build.name == "build"
    # The Python the project asks for, from the slim Debian image, in both stages.
    python = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert python == ">=3.11"
    assert build.base == runtime.base == "python:3.11-slim-bookworm"
    assert any(run.startswith("pip wheel") for run in build.all("RUN"))
    install = [run for run in runtime.all("RUN") if "pip install" in run]
    assert len(install) == 1
    assert "--no-index" in install[0]
    assert install[0].rstrip().endswith("pip install --no-index --find-links=/wheels sp4n-hub")
    assert not any("[dev]" in rest for stage in stages for _, rest in stage.instructions)


def test_the_image_runs_as_an_unprivileged_user_and_holds_no_secret(stages: list[Stage]) -> None:
    runtime = stages[-1]
    users = runtime.all("USER")
    assert users, "the image would run as root"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit(), users[-1]
    assert gid.isdigit(), users[-1]
    assert int(uid) >= 1000, users[-1]
    assert int(gid) >= 1000, users[-1]
    # Nothing runs as root after the switch.
    words = [word for word, _ in runtime.instructions]
    assert "RUN" not in words[words.index("USER") :]
    assert f"--uid {uid}" in " ".join(runtime.all("RUN"))
    env = runtime.env()
    assert (
        set(env)
        - {"PIP_NO_CACHE_DIR", "PIP_DISABLE_PIP_VERSION_CHECK"}
        - {
            "PYTHONDONTWRITEBYTECODE",
            "PYTHONUNBUFFERED",
        }
        <= hub_variables()
    ), "ENV names a variable the hub does not read"
    assert not {"DATABASE_URL", "SP4N_KEY_DIR"} & set(env)
    for stage in stages:
        for copied in stage.all("COPY"):
            assert not any(word in copied for word in ("secret", ".pem", ".sp4n")), copied


def test_the_entrypoint_reads_a_variable_from_its_file(tmp_path: Path) -> None:
    secret = tmp_path / "database_url"
    secret.write_text("postgresql://sp4n:pw@db/sp4n\n")
    base = {"PATH": os.environ["PATH"]}

    def run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["sh", str(ENTRYPOINT), "env"], env=base | env, capture_output=True, text=True
        )

    done = run({"DATABASE_URL_FILE": str(secret)})
    assert done.returncode == 0, done.stderr
    assert "DATABASE_URL=postgresql://sp4n:pw@db/sp4n\n" in done.stdout
    assert "DATABASE_URL_FILE" not in done.stdout
    both = run({"DATABASE_URL_FILE": str(secret), "DATABASE_URL": "postgresql://x/y"})
    assert both.returncode == 64
    assert "both DATABASE_URL and DATABASE_URL_FILE" in both.stderr
    missing = run({"DATABASE_URL_FILE": str(tmp_path / "nowhere")})
    assert missing.returncode == 66
    assert "cannot be read" in missing.stderr


def _wheel(stages: list[Stage], tmp_path: Path) -> Path:
    """The hub's wheel, built from what the build stage copies and nothing else."""
    source = tmp_path / "src"
    source.mkdir()
    for copied in stages[0].all("COPY"):
        *paths, _ = copied.split()
        for path in paths:
            origin = ROOT / path
            if origin.is_dir():
                shutil.copytree(origin, source / path, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(origin, source / path)
    out = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--quiet", "--wheel-dir", str(out), str(source)],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    (wheel,) = out.glob("sp4n_hub-*.whl")
    return wheel


def _hub_module(env: dict[str, str], cwd: Path) -> str:
    """Where ``import hub`` finds the hub under ``env``."""
    where = subprocess.run(
        [sys.executable, "-c", "import hub, connectors, schema, infra; print(hub.__file__)"],
        env=env, cwd=cwd, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return where.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
async def served_wheel(
    stages: list[Stage], tmp_path: Path, database_url: str, kafka_bootstrap: str
) -> AsyncIterator[tuple[str, dict[str, str]]]:
    """`sp4n-hub serve` from the unpacked wheel, started as the image starts it: its
    entrypoint, its command, its environment, DATABASE_URL from a secret file."""
    wheel = await asyncio.to_thread(_wheel, stages, tmp_path)
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    secret = tmp_path / "database_url"
    secret.write_text(database_url + "\n")
    keys = tmp_path / "keys"
    rotate(keys)
    port = _free_port()
    runtime = stages[-1]
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(site)} | runtime.env()
    env |= {
        "SP4N_HOST": "127.0.0.1",  # the image listens on 0.0.0.0; a test stays on loopback
        "SP4N_PORT": str(port),
        "SP4N_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL_FILE": str(secret),
        "SP4N_KEY_DIR": str(keys),
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "SP4N_KAFKA_TOPIC_PREFIX": f"deploy-{uuid.uuid4().hex[:8]}-",
    }
    # The hub this starts is the wheel's, not the working tree's.
    loaded = await asyncio.to_thread(_hub_module, env, tmp_path)
    assert loaded.startswith(str(site)), loaded
    entrypoint = exec_form(runtime.all("ENTRYPOINT")[-1])
    command = exec_form(runtime.all("CMD")[-1])
    assert entrypoint == ["sp4n-entrypoint"]
    assert command == ["sp4n-hub", "serve"]
    # sp4n-entrypoint is entrypoint.sh, sp4n-hub the wheel's console script (hub.cli.main:main).
    with zipfile.ZipFile(wheel) as archive:
        scripts = next(n for n in archive.namelist() if n.endswith("entry_points.txt"))
        assert "sp4n-hub = hub.cli.main:main" in archive.read(scripts).decode()
    process = await asyncio.create_subprocess_exec(
        "sh", str(ENTRYPOINT), sys.executable, "-m", "hub.cli", *command[1:],
        env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=5) as http:
            for _ in range(600):
                if process.returncode is not None:
                    assert process.stderr is not None
                    pytest.fail(f"serve exited: {(await process.stderr.read()).decode()}")
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        yield base, env
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout=30)
            except TimeoutError:
                process.kill()
                await process.wait()


async def test_the_wheel_serves_the_probes_the_image_and_manifests_ask(
    served_wheel: tuple[str, dict[str, str]], stages: list[Stage]
) -> None:
    base, env = served_wheel
    async with httpx.AsyncClient(base_url=base, timeout=5) as http:
        health = await http.get("/healthz")
        assert (health.status_code, health.text) == (200, "ok")
        ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"ready": True, "database": "ok", "broker": "ok"}
        metrics = await http.get("/metrics")
        assert "sp4n_database_up 1.0" in metrics.text
        # The production profile the image sets: no GraphiQL page.
        page = await http.get("/graphql", headers={"accept": "text/html"})
        assert "graphiql" not in page.text.lower()
    # The image's HEALTHCHECK command, as the engine runs it inside the container.
    healthcheck = stages[-1].all("HEALTHCHECK")[-1]
    assert "/healthz" in healthcheck
    command = exec_form(healthcheck.partition(" CMD ")[2])
    checked = await asyncio.create_subprocess_exec(
        sys.executable, *command[1:], env=env | {"PATH": os.environ["PATH"]}
    )
    assert await checked.wait() == 0
    # In a worker's container it asks the worker's metrics port, where nothing answers here.
    elsewhere = env | {"PATH": os.environ["PATH"], "SP4N_METRICS_PORT": str(_free_port())}
    checked = await asyncio.create_subprocess_exec(
        sys.executable, *command[1:], env=elsewhere, stderr=asyncio.subprocess.DEVNULL
    )
    assert await checked.wait() != 0


async def test_the_healthcheck_fails_when_nothing_answers(stages: list[Stage]) -> None:
    healthcheck = stages[-1].all("HEALTHCHECK")[-1]
    command = exec_form(healthcheck.partition(" CMD ")[2])
    checked = await asyncio.create_subprocess_exec(
        sys.executable, *command[1:],
        env={"PATH": os.environ["PATH"], "SP4N_PORT": str(_free_port())},
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert await checked.wait() != 0
