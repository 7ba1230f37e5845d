"""Every service that ships an image (services/<name>/Dockerfile) is wired in everywhere.

A service's Dockerfile must install its own package from the lock and run a module of it as a
numeric non-root user; docker-compose.yml must build it, with the shared settings; infra/k8s must
run it as a Deployment with probes. The checks are parametrized over the Dockerfiles found, so a
service that lands with a Dockerfile and nothing else fails here.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from glob import glob
from pathlib import Path
from typing import Any

import pytest

from driftloop_artifacts import key_from_secret
from driftloop_registry.config import RegistrySettings
from driftloop_runtime import RuntimeSettings
from tests.unit.infra._files import (
    INFRA,
    K8S,
    REPO,
    dockerfile_args,
    dockerfile_instructions,
    expand_args,
    load_yaml,
    service_dockerfiles,
    yaml_documents,
)

pytestmark = pytest.mark.unit

DOCKERFILES = service_dockerfiles()
SECRET_TEMPLATE = K8S / "secret.template.yaml"
GRACEFUL_TIMEOUT_S = RuntimeSettings.model_fields["graceful_timeout_s"].default


def test_the_registry_ships_an_image() -> None:
    # The parametrized checks below run once per Dockerfile found: make sure they find one.
    assert "registry" in DOCKERFILES


# --- the image ----------------------------------------------------------------------------


def _workspace_members() -> dict[str, Path]:
    """Project name -> directory, for every member of the uv workspace."""
    root = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    found = {}
    for pattern in root["tool"]["uv"]["workspace"]["members"]:
        for directory in sorted(glob(str(REPO / pattern))):
            pyproject = Path(directory) / "pyproject.toml"
            if pyproject.is_file():
                project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
                found[project["name"]] = Path(directory)
    return found


def _env(instructions: list[tuple[str, str]]) -> dict[str, str]:
    found = {}
    for op, arg in instructions:
        if op == "ENV":
            for item in shlex.split(arg):
                name, _, value = item.partition("=")
                found[name] = value
    return found


def _exposed_port(text: str) -> int | None:
    instructions = dockerfile_instructions(text)
    args = dockerfile_args(instructions)
    ports = [expand_args(arg, args) for op, arg in instructions if op == "EXPOSE"]
    assert len(ports) <= 1, "one HTTP port per service"
    return int(ports[0].split("/")[0]) if ports else None


def _uid(text: str) -> int:
    users = [arg for op, arg in dockerfile_instructions(text) if op == "USER"]
    assert users, "no USER"
    return int(users[-1].split(":")[0])


def dockerfile_problems(text: str, service: str) -> list[str]:
    """What is wrong with ``text`` as services/<service>/Dockerfile (empty: nothing)."""
    instructions = dockerfile_instructions(text)
    args = dockerfile_args(instructions)
    expanded = [(op, expand_args(arg, args)) for op, arg in instructions]
    runs = " ".join(arg for op, arg in expanded if op == "RUN")
    problems = []
    if ("FROM", "python:3.11-slim") not in expanded:
        problems.append("not FROM python:3.11-slim")
    if not re.search(r"pip install .*\buv\b", runs):
        problems.append("uv is not installed with pip")

    copied = {
        source.rstrip("/")
        for op, arg in expanded
        if op == "COPY"
        for source in arg.split()[:-1]
        if not source.startswith("--")
    }
    problems += [
        f"COPY {source}: no such path" for source in copied if not (REPO / source).exists()
    ]

    sync = re.search(r"uv sync --frozen --no-dev --no-editable --package (\S+)", runs)
    members = _workspace_members()
    if sync is None:
        return [*problems, "no `uv sync --frozen --no-dev --no-editable --package ...`"]
    package = sync.group(1)
    if package not in members:
        return [*problems, f"{package} is not a workspace member"]
    member = members[package]
    if member != REPO / "services" / service:
        problems.append(f"installs {package} ({member.relative_to(REPO)}), not services/{service}")
    if str(member.relative_to(REPO)) not in copied:
        problems.append(f"{member.relative_to(REPO)} is not copied into the image")

    entrypoints = [json.loads(arg) for op, arg in expanded if op == "ENTRYPOINT"]
    if not entrypoints or entrypoints[-1][:2] != ["python", "-m"] or len(entrypoints[-1]) < 3:
        return [*problems, "ENTRYPOINT is not the exec form of `python -m <module>`"]
    module = entrypoints[-1][2]
    source = member / "src" / module.replace(".", "/")
    if not (source / "__main__.py").is_file() and not source.with_suffix(".py").is_file():
        problems.append(f"module {module} is not in {package} ({member.relative_to(REPO)}/src)")

    users = [arg for op, arg in expanded if op == "USER"]
    if not users or not re.fullmatch(r"[1-9]\d*(:\d+)?", users[-1]):
        problems.append("the last USER is not a numeric non-root uid")

    if _exposed_port(text) is not None:
        env = _env(expanded)
        if env.get("DRIFTLOOP_HTTP_HOST") != "0.0.0.0":
            problems.append("serves HTTP but does not set DRIFTLOOP_HTTP_HOST=0.0.0.0")
        if env.get("DRIFTLOOP_HTTP_PORT") != str(_exposed_port(text)):
            problems.append("DRIFTLOOP_HTTP_PORT is not the EXPOSEd port")
        checks = [arg for op, arg in expanded if op == "HEALTHCHECK"]
        if not checks or "/healthz" not in checks[-1] or 'CMD ["python"' not in checks[-1]:
            problems.append("serves HTTP but has no HEALTHCHECK asking /healthz with python")
    return problems


@pytest.mark.parametrize("service", sorted(DOCKERFILES))
def test_every_service_image_installs_its_package_and_runs_its_module(service: str) -> None:
    text = DOCKERFILES[service].read_text(encoding="utf-8")
    assert dockerfile_problems(text, service) == []


def _breakages() -> list[tuple[str, str, str]]:
    return [
        ('"driftloop_registry"]', '"driftloop_cli.main"]', "module driftloop_cli.main is not in"),
        ("--package driftloop-${SERVICE}", "--package driftloop-cli", "installs driftloop-cli"),
        ("--package driftloop-${SERVICE}", "--package driftloop-nope", "not a workspace member"),
        ("ARG SERVICE=registry", "ARG SERVICE=nope", "no such path"),
        ("USER 10001:10001", "USER driftloop", "numeric non-root"),
        ("DRIFTLOOP_HTTP_HOST=0.0.0.0", "DRIFTLOOP_HTTP_HOST=127.0.0.1", "0.0.0.0"),
        ("/healthz", "/", "HEALTHCHECK"),
    ]


@pytest.mark.parametrize(("old", "new", "expected"), _breakages())
def test_the_image_check_catches_a_broken_dockerfile(old: str, new: str, expected: str) -> None:
    text = DOCKERFILES["registry"].read_text(encoding="utf-8")
    assert old in text
    problems = dockerfile_problems(text.replace(old, new), "registry")
    assert any(expected in problem for problem in problems), problems


# --- docker-compose.yml -------------------------------------------------------------------


def _compose_service(services: dict[str, dict[str, Any]], dockerfile: Path) -> dict[str, Any]:
    built = [
        s
        for s in services.values()
        if "build" in s
        and (REPO / s["build"]["context"] / s["build"].get("dockerfile", "Dockerfile")).resolve()
        == dockerfile
    ]
    assert len(built) == 1, f"{dockerfile.relative_to(REPO)} is built by {len(built)} services"
    return built[0]


def _seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+)s", duration)
    assert match, duration
    return float(match.group(1))


@pytest.mark.parametrize("service", sorted(DOCKERFILES))
def test_every_service_image_has_a_compose_entry_with_the_shared_settings(
    service: str,
    compose: dict[str, Any],
    services: dict[str, dict[str, Any]],
    driftloop_env: dict[str, str],
) -> None:
    entry = _compose_service(services, DOCKERFILES[service])
    shared = compose["x-driftloop-service"]
    assert entry["build"]["context"] == "."
    assert entry["image"] == f"driftloop/{service}:dev"
    assert entry["restart"] == shared["restart"]
    assert _seconds(entry["stop_grace_period"]) > GRACEFUL_TIMEOUT_S
    assert entry["depends_on"] == shared["depends_on"]  # Kafka, MongoDB healthy, topics done
    env = entry["environment"]
    assert driftloop_env.items() <= env.items(), "merge *driftloop-env into its environment"
    assert env["OTEL_SERVICE_NAME"] == f"driftloop-{service}"
    port = _exposed_port(DOCKERFILES[service].read_text(encoding="utf-8"))
    if port is None:
        assert "ports" not in entry
        return
    for published in entry.get("ports", []):
        assert re.fullmatch(rf"127\.0\.0\.1:\d+:{port}", str(published)), published
    test = " ".join(entry["healthcheck"]["test"])
    assert "/healthz" in test
    assert "curl" not in test
    assert "wget" not in test


def test_the_registry_api_is_published_on_loopback_only(
    services: dict[str, dict[str, Any]],
) -> None:
    assert services["registry"]["ports"] == ["127.0.0.1:8410:8410"]


def _default_of(value: str) -> tuple[str, str]:
    """(variable, default) of a value that is exactly ``${VARIABLE:-default}``."""
    match = re.fullmatch(r"\$\{(\w+):-(.*)\}", value, re.DOTALL)
    assert match, f"{value!r} is not ${{VARIABLE:-default}}"
    return match.group(1), match.group(2)


def test_the_registry_secrets_come_from_the_environment_with_working_dev_defaults(
    services: dict[str, dict[str, Any]],
) -> None:
    env = services["registry"]["environment"]
    tokens_variable, tokens = _default_of(env["DRIFTLOOP_REGISTRY_TOKENS"])
    key_variable, key = _default_of(env["DRIFTLOOP_ARTIFACT_SIGNING_KEY"])
    assert tokens_variable == "DRIFTLOOP_REGISTRY_TOKENS"
    assert key_variable == "DRIFTLOOP_ARTIFACT_SIGNING_KEY"
    # Compose matches the braces of a default value, but skips the character after each `{`.
    assert tokens.count("{") == tokens.count("}")
    assert "{{" not in tokens
    assert "{}" not in tokens
    grants = json.loads(tokens)
    settings = RegistrySettings(registry_tokens=grants, artifact_signing_key=key)
    assert {grant.role for grant in settings.registry_tokens.values()} == {"viewer", "approver"}
    assert key_from_secret(key)  # long enough to sign with
    readme = (INFRA / "README.md").read_text(encoding="utf-8")
    for secret in [key, *(grant["token"] for grant in grants.values())]:
        assert "dev-only" in secret, "a development default must say so"
        assert "CHANGE-ME" in secret
        assert f"`{secret}`" in readme, f"infra/README.md does not name {secret}"


def test_the_signing_key_has_one_definition(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    shared = compose["x-driftloop-signing-env"]["DRIFTLOOP_ARTIFACT_SIGNING_KEY"]
    users = [
        s for s in services.values() if "DRIFTLOOP_ARTIFACT_SIGNING_KEY" in s.get("environment", {})
    ]
    assert users
    for service in users:
        assert service["environment"]["DRIFTLOOP_ARTIFACT_SIGNING_KEY"] == shared


# --- infra/k8s ----------------------------------------------------------------------------


def _k8s_resources() -> list[dict[str, Any]]:
    kustomization = load_yaml(K8S / "kustomization.yaml")
    return [doc for name in kustomization["resources"] for doc in yaml_documents(K8S / name)]


def _deployment(service: str) -> dict[str, Any]:
    found = [
        d
        for d in _k8s_resources()
        if d["kind"] == "Deployment"
        and any(
            c["image"] == f"driftloop-{service}"
            for c in d["spec"]["template"]["spec"]["containers"]
        )
    ]
    assert len(found) == 1, f"{len(found)} Deployments run the image driftloop-{service}"
    return found[0]


def _probe_port(probe: dict[str, Any], container: dict[str, Any]) -> int | None:
    if "httpGet" not in probe:
        return None
    port = probe["httpGet"]["port"]
    named = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    return int(named[port]) if isinstance(port, str) else int(port)


@pytest.mark.parametrize("service", sorted(DOCKERFILES))
def test_every_service_image_has_a_deployment_with_probes(
    service: str, services: dict[str, dict[str, Any]]
) -> None:
    text = DOCKERFILES[service].read_text(encoding="utf-8")
    deployment = _deployment(service)
    pod = deployment["spec"]["template"]["spec"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    (container,) = pod["containers"]

    images = {i["name"]: i for i in load_yaml(K8S / "kustomization.yaml")["images"]}
    image = images[f"driftloop-{service}"]
    assert (
        f"{image['newName']}:{image['newTag']}"
        == _compose_service(services, DOCKERFILES[service])["image"]
    )

    port = _exposed_port(text)
    for kind in ("readinessProbe", "livenessProbe"):
        probe = container.get(kind)
        assert probe, f"{service}: no {kind}"
        if port is not None:
            assert probe["httpGet"]["path"] == "/healthz", kind
            assert _probe_port(probe, container) == port, kind

    refs = container["envFrom"]
    assert refs[0] == {"configMapRef": {"name": "driftloop-config"}}
    assert refs[1] == {"secretRef": {"name": "driftloop-secrets", "optional": True}}
    env = {e["name"]: e for e in container.get("env", [])}
    assert env["OTEL_SERVICE_NAME"]["value"] == f"driftloop-{service}"

    assert pod["terminationGracePeriodSeconds"] > GRACEFUL_TIMEOUT_S
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == _uid(text)
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert container["resources"]["requests"]["memory"]
    assert container["resources"]["limits"]["memory"]

    if port is not None:
        exposed = [
            s
            for s in _k8s_resources()
            if s["kind"] == "Service" and s["spec"]["selector"].items() <= labels.items()
        ]
        assert len(exposed) == 1, f"{service}: {len(exposed)} Services select its pods"
        targets = {p["targetPort"] for p in exposed[0]["spec"]["ports"]}
        assert targets <= {port, *(p["name"] for p in container["ports"])}


def test_the_registry_needs_its_tokens_and_signing_key_from_the_secret() -> None:
    (container,) = _deployment("registry")["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    secret = load_yaml(SECRET_TEMPLATE)
    for key in ("DRIFTLOOP_REGISTRY_TOKENS", "DRIFTLOOP_ARTIFACT_SIGNING_KEY"):
        ref = env[key]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": secret["metadata"]["name"], "key": key}  # not optional
        assert key in secret["stringData"]
    placeholder = json.loads(secret["stringData"]["DRIFTLOOP_REGISTRY_TOKENS"])
    RegistrySettings(registry_tokens=placeholder)  # the template's shape is the real one


def test_the_monitor_runs_as_one_replica_that_stops_before_the_next_starts(
    services: dict[str, dict[str, Any]],
) -> None:
    # One consumer must see every partition (its statistics merge across them), and the old
    # pod's last checkpoint must be written before the new pod reads it.
    spec = _deployment("monitor")["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}
    assert "deploy" not in _compose_service(services, DOCKERFILES["monitor"])
