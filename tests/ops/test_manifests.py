"""The deployable files are checked, not only written: compose by a compose validator,
the Kubernetes manifests against the Kubernetes schemas (offline), and neither carries a
usable secret. Every Deployment asks for resources, every API has probes, a disruption
budget and an autoscaler, and the bus runs as a three-node cluster."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = sorted((ROOT / "deploy" / "k8s").glob("*.yaml"))
KUBERNETES = "1.30"


def documents() -> list[tuple[str, dict[str, Any]]]:
    return [
        (path.name, doc)
        for path in MANIFESTS
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in documents() if doc["kind"] == kind}


def test_compose_file_is_valid() -> None:
    compose = shutil.which("docker-compose")
    assert compose, "make test installs Debian's docker-compose (scripts/tools.sh)"
    checked = subprocess.run(
        [compose, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert checked.returncode == 0, checked.stderr


def test_compose_mounts_only_files_that_exist() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"


@pytest.mark.parametrize(("name", "doc"), documents(), ids=lambda v: str(v)[:40])
def test_every_manifest_matches_the_kubernetes_schema(name: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def test_no_manifest_carries_a_secret() -> None:
    kinds = [doc["kind"] for _, doc in documents()]
    assert "Secret" not in kinds
    text = "\n".join(path.read_text() for path in MANIFESTS)
    for placeholder in ("change-me", "changeme", "password:"):
        assert placeholder not in text.lower().replace("<password>", "")


def test_deployments_ask_for_resources_and_apis_are_probed() -> None:
    for name, deployment in by_kind("Deployment").items():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            assert container["resources"]["requests"], name
            if name.endswith("-api"):
                assert container["readinessProbe"] and container["livenessProbe"], name


def test_every_service_has_budgets_and_autoscalers() -> None:
    deployments = by_kind("Deployment")
    budgets = {
        doc["spec"]["selector"]["matchLabels"].get("service")
        for doc in by_kind("PodDisruptionBudget").values()
    }
    scalers = {
        doc["spec"]["scaleTargetRef"]["name"]: doc
        for doc in by_kind("HorizontalPodAutoscaler").values()
    }
    for name in deployments:
        if name.endswith(("-api", "-worker")):
            assert name.rsplit("-", 1)[0] in budgets, name
            assert name in scalers, name
    for name, scaler in scalers.items():
        metric = scaler["spec"]["metrics"][0]
        if name.endswith("-worker"):  # workers follow their queue, APIs their CPU
            assert metric["external"]["metric"]["name"] == "frontdesk_consumer_queue_depth"
        else:
            assert metric["resource"]["name"] == "cpu"


def test_the_bus_is_a_three_node_cluster_of_quorum_queues() -> None:
    rabbit = by_kind("StatefulSet")["rabbitmq"]
    assert rabbit["spec"]["replicas"] == 3
    config = by_kind("ConfigMap")["rabbitmq"]["data"]
    assert "peer_discovery_backend = k8s" in config["rabbitmq.conf"]
    assert "dead-letter-routing-key" in config["policies.sh"]
