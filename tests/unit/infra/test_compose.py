"""docker-compose.yml: valid Compose Specification, and the structure driftloop relies on."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.infra._files import COMPOSE_FILE, REPO, dockerfile_instructions

pytestmark = pytest.mark.unit

TOOLS_DOCKERFILE = REPO / "infra" / "docker" / "tools.Dockerfile"


def schema_check(path: Path) -> subprocess.CompletedProcess[str]:
    """Validate ``path`` against the Compose Specification schema shipped with check-jsonschema."""
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec"]
    return subprocess.run(
        [*command, str(path)], capture_output=True, text=True, timeout=120, check=False
    )


def test_compose_file_matches_the_compose_specification() -> None:
    result = schema_check(COMPOSE_FILE)
    assert result.returncode == 0, result.stdout + result.stderr


def _break_ports(data: dict[str, Any]) -> None:
    data["services"]["kafka"]["ports"] = 5


def _add_unknown_top_level_key(data: dict[str, Any]) -> None:
    data["servcies"] = {}


def _misspell_a_service_key(data: dict[str, Any]) -> None:
    data["services"]["mongodb"]["healthchek"] = data["services"]["mongodb"].pop("healthcheck")


@pytest.mark.parametrize(
    "breakage", [_break_ports, _add_unknown_top_level_key, _misspell_a_service_key]
)
def test_the_schema_check_rejects_a_broken_compose_file(
    compose: dict[str, Any], tmp_path: Path, breakage: Any
) -> None:
    broken = json.loads(json.dumps(compose))  # a deep copy, anchors already resolved
    breakage(broken)
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    result = schema_check(path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Schema validation errors" in result.stdout + result.stderr


def test_no_obsolete_version_key(compose: dict[str, Any]) -> None:
    assert "version" not in compose


def _published(port: Any) -> tuple[str | None, str | None]:
    """(host IP, host port) of one `ports` entry, short or long syntax."""
    if isinstance(port, dict):
        return port.get("host_ip"), str(port.get("published")) if "published" in port else None
    parts = str(port).split("/")[0].rsplit(":", 2)
    if len(parts) == 3:
        return parts[0], parts[1]
    return None, parts[0] if len(parts) == 2 else None


def test_every_published_port_binds_loopback_only(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        assert service.get("network_mode") != "host", name
        for port in service.get("ports", []):
            host_ip, host_port = _published(port)
            assert host_ip == "127.0.0.1", f"{name}: {port!r} is not bound to 127.0.0.1"
            assert host_port, f"{name}: {port!r} publishes on a random port"


def _listeners(value: str) -> dict[str, tuple[str, int]]:
    found = {}
    for item in value.split(","):
        name, address = item.split("://")
        host, port = address.rsplit(":", 1)
        found[name] = (host, int(port))
    return found


def test_kafka_is_a_single_kraft_node_without_zookeeper(
    services: dict[str, dict[str, Any]],
) -> None:
    kafka = services["kafka"]
    env = kafka["environment"]
    assert kafka["image"].startswith("apache/kafka:")
    assert not [name for name, s in services.items() if "zookeeper" in f"{name} {s.get('image')}"]
    assert not [key for key in env if "ZOOKEEPER" in key]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].startswith(f"{env['KAFKA_NODE_ID']}@")
    assert len(base64.urlsafe_b64decode(env["CLUSTER_ID"] + "==")) == 16
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert "healthcheck" in kafka


def test_kafka_listeners_fit_together(
    services: dict[str, dict[str, Any]], driftloop_env: dict[str, str]
) -> None:
    env = services["kafka"]["environment"]
    listeners = _listeners(env["KAFKA_LISTENERS"])
    advertised = _listeners(env["KAFKA_ADVERTISED_LISTENERS"])
    protocols = dict(
        item.split(":") for item in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    )
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert set(protocols) == set(listeners)
    assert set(advertised) == set(listeners) - {controller}
    assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] in advertised
    assert listeners[controller][0] == "localhost"  # the controller is not on the network
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].endswith(f"@localhost:{listeners[controller][1]}")
    internal = {f"{h}:{p}" for h, p in advertised.values() if h == "kafka"}
    assert internal == {driftloop_env["DRIFTLOOP_KAFKA_BOOTSTRAP"]}
    published = {str(port) for port in services["kafka"]["ports"]}
    for name, (host, port) in advertised.items():
        if host != "kafka":
            assert host == "127.0.0.1"
            assert f"127.0.0.1:{port}:{listeners[name][1]}" in published


def test_mongodb_runs_a_replica_set_with_auth(
    services: dict[str, dict[str, Any]], driftloop_env: dict[str, str]
) -> None:
    mongodb = services["mongodb"]
    command = mongodb["command"]
    replica_set = command[command.index("--replSet") + 1]
    keyfile = command[command.index("--keyFile") + 1]
    assert command[0] == "mongod"
    assert f"keyfile={keyfile}" in mongodb["entrypoint"][2]  # generated before mongod starts
    check = " ".join(mongodb["healthcheck"]["test"])
    assert "rs.initiate" in check
    assert f"_id: '{replica_set}'" in check
    assert "host: 'mongodb:27017'" in check
    env = mongodb["environment"]
    assert re.fullmatch(r"\$\{DRIFTLOOP_MONGO_USER:-\w+\}", env["MONGO_INITDB_ROOT_USERNAME"])
    assert re.fullmatch(r"\$\{DRIFTLOOP_MONGO_PASSWORD:-\w+\}", env["MONGO_INITDB_ROOT_PASSWORD"])
    uri = driftloop_env["DRIFTLOOP_MONGO_URI"]
    assert uri.startswith(
        f"mongodb://{env['MONGO_INITDB_ROOT_USERNAME']}:{env['MONGO_INITDB_ROOT_PASSWORD']}@"
    )
    assert "@mongodb:27017/" in uri
    assert f"replicaSet={replica_set}" in uri


def _depends_on(compose: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(who, target, condition) for the services and the `x-` blocks they will merge."""
    blocks = {**compose["services"], **{k: v for k, v in compose.items() if k.startswith("x-")}}
    for who, block in blocks.items():
        targets = block.get("depends_on", {})
        if isinstance(targets, list):
            targets = {target: {"condition": "service_started"} for target in targets}
        for target, spec in targets.items():
            yield who, target, spec.get("condition", "service_started")


def test_every_dependency_exists_and_can_meet_its_condition(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    pairs = list(_depends_on(compose))
    assert pairs
    for who, target, condition in pairs:
        assert target in services, f"{who} depends on unknown service {target}"
        if condition == "service_healthy":
            assert "healthcheck" in services[target], f"{who}: {target} has no healthcheck"
        if condition == "service_completed_successfully":
            assert services[target].get("restart") == "no", f"{who}: {target} is not one-shot"


def test_the_shared_service_block_carries_env_dependencies_and_restart(
    compose: dict[str, Any], driftloop_env: dict[str, str]
) -> None:
    shared = compose["x-driftloop-service"]
    assert shared["restart"] == "unless-stopped"
    assert set(shared["depends_on"]) >= {"kafka", "mongodb", "topics"}
    assert driftloop_env["DRIFTLOOP_KAFKA_BOOTSTRAP"] == "kafka:19092"
    assert driftloop_env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"
    assert driftloop_env["DRIFTLOOP_OTLP_ENDPOINT"] == "http://otel-collector:4318"


def _dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    return dockerfile_instructions(path.read_text(encoding="utf-8"))


def test_the_topics_job_runs_driftloop_topics_create_once(
    services: dict[str, dict[str, Any]], driftloop_env: dict[str, str]
) -> None:
    topics = services["topics"]
    build = topics["build"]
    assert (REPO / build["context"] / build["dockerfile"]).resolve() == TOOLS_DOCKERFILE
    entrypoints = [
        arg for op, arg in _dockerfile_instructions(TOOLS_DOCKERFILE) if op == "ENTRYPOINT"
    ]
    assert [*json.loads(entrypoints[-1]), *topics["command"]] == ["driftloop", "topics", "create"]
    assert topics["restart"] == "no"
    assert topics["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert topics["environment"] == driftloop_env


def test_the_tools_image_installs_the_cli_from_the_lock() -> None:
    instructions = _dockerfile_instructions(TOOLS_DOCKERFILE)
    runs = " ".join(arg for op, arg in instructions if op == "RUN")
    assert ("FROM", "python:3.11-slim") in instructions
    assert re.search(r"pip install .*\buv\b", runs)
    cli = tomllib.loads((REPO / "libs" / "cli" / "pyproject.toml").read_text(encoding="utf-8"))
    assert "driftloop" in cli["project"]["scripts"]
    assert f"--package {cli['project']['name']}" in runs
    assert "uv sync --frozen --no-dev" in runs
    ignored = (TOOLS_DOCKERFILE.parent / "tools.Dockerfile.dockerignore").read_text("utf-8")
    for op, arg in instructions:
        if op == "COPY":
            for source in arg.split()[:-1]:
                assert (REPO / source).exists(), source
                assert f"!{source}" in ignored.splitlines(), f"{source} is not in the context"


def test_every_referenced_file_exists(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if "build" in service:
            context = REPO / service["build"]["context"]
            assert (context / service["build"].get("dockerfile", "Dockerfile")).is_file(), name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (REPO / source).exists(), f"{name}: {source} does not exist"


def test_named_volumes_are_declared_and_hold_the_state(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    used = {
        name: {v.split(":")[0] for v in s.get("volumes", []) if not v.startswith((".", "/"))}
        for name, s in services.items()
    }
    assert set().union(*used.values()) == set(compose["volumes"])
    for stateful in ("kafka", "mongodb", "grafana"):
        assert used[stateful], f"{stateful} keeps its data in no named volume"
