"""infra/k8s: a kustomize base whose manifests parse and refer to each other correctly."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.infra._files import INFRA, load_yaml

pytestmark = pytest.mark.unit

K8S = INFRA / "k8s"
TEMPLATE = "secret.template.yaml"


def _documents(path: Path) -> list[dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    assert all(isinstance(d, dict) for d in docs)
    return docs


def _resource(kind: str, files: list[str] | None = None) -> dict[str, Any]:
    names = files if files is not None else _kustomization()["resources"]
    found = [d for name in names for d in _documents(K8S / name) if d["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}"
    return found[0]


def _kustomization() -> dict[str, Any]:
    data = load_yaml(K8S / "kustomization.yaml")
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("path", sorted(K8S.glob("*.yaml")), ids=lambda p: p.name)
def test_every_manifest_parses_and_names_its_resources(path: Path) -> None:
    docs = _documents(path)
    assert docs
    for doc in docs:
        assert doc.get("apiVersion"), path.name
        assert doc.get("kind"), path.name
        if doc["kind"] != "Kustomization":
            assert doc.get("metadata", {}).get("name"), f"{path.name}: {doc['kind']} has no name"


def test_kustomization_lists_every_manifest_but_the_secret_template() -> None:
    kustomization = _kustomization()
    manifests = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", TEMPLATE}
    assert set(kustomization["resources"]) == manifests
    assert kustomization["namespace"] == _resource("Namespace")["metadata"]["name"] == "driftloop"


def test_configmap_says_where_kafka_mongodb_and_the_collector_are() -> None:
    data = _resource("ConfigMap")["data"]
    for key in ("DRIFTLOOP_KAFKA_BOOTSTRAP", "DRIFTLOOP_MONGO_URI", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        assert data.get(key), key
    assert "@" not in data["DRIFTLOOP_MONGO_URI"], "credentials belong in the Secret"


def test_the_secret_template_holds_only_marked_placeholders() -> None:
    text = (K8S / TEMPLATE).read_text(encoding="utf-8")
    assert text.startswith("# TEMPLATE")
    secret = _resource("Secret", [TEMPLATE])
    for key, value in secret["stringData"].items():
        if re.search(r"(PASSWORD|TOKENS?|KEY|USERNAME|URI)$", key):
            assert "CHANGE_ME" in value, key


def test_the_topic_job_runs_the_tools_image_with_the_shared_settings() -> None:
    job = _resource("Job")
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"][:2] == ["topics", "create"]
    assert container["image"] in {image["name"] for image in _kustomization()["images"]}
    refs = container["envFrom"]
    assert refs[0]["configMapRef"]["name"] == _resource("ConfigMap")["metadata"]["name"]
    secret = _resource("Secret", [TEMPLATE])["metadata"]["name"]
    assert refs[1]["secretRef"] == {"name": secret, "optional": True}
    dockerfile = (INFRA / "docker" / "tools.Dockerfile").read_text(encoding="utf-8")
    uid = pod["securityContext"]["runAsUser"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert f"USER {uid}:" in dockerfile


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc.get("spec", {})
    pod = spec.get("template", {}).get("spec", {})
    found = pod.get("containers", []) + pod.get("initContainers", [])
    assert isinstance(found, list)
    return found


def test_every_key_a_workload_takes_from_the_secret_or_configmap_exists() -> None:
    secret = _resource("Secret", [TEMPLATE])
    config = _resource("ConfigMap")
    provided = {
        ("secretKeyRef", secret["metadata"]["name"]): set(secret["stringData"]),
        ("configMapKeyRef", config["metadata"]["name"]): set(config["data"]),
    }
    refs = [
        (kind, ref)
        for name in _kustomization()["resources"]
        for doc in _documents(K8S / name)
        for container in _containers(doc)
        for item in container.get("env", [])
        for kind, ref in item.get("valueFrom", {}).items()
        if kind in ("secretKeyRef", "configMapKeyRef")
    ]
    assert refs
    for kind, ref in refs:
        assert ref["key"] in provided[(kind, ref["name"])], f"{kind} {ref}"
