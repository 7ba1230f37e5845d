"""The ``driftloop`` registry commands against the registry service, as a user runs them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from typer.testing import CliRunner, Result

from driftloop_cli.local.processes import free_port
from driftloop_cli.main import app
from driftloop_cli.settings import LOCAL_ENV_FILE
from driftloop_contracts import SPECS_TOPIC
from tests.integration.conftest import RunningService
from tests.integration.registry.helpers import (
    publish_training,
    store_model,
    training_result,
    wait_for_json,
)

pytestmark = pytest.mark.integration

FRAUD_SPEC = Path(__file__).resolve().parents[2] / "specs" / "fraud.yaml"


def driftloop(env: dict[str, str], *args: str) -> Result:
    """Run ``driftloop *args`` in-process with ``env`` as its environment."""
    return CliRunner().invoke(app, list(args), env=env)


def spec_named(directory: Path, name: str) -> Path:
    """A copy of specs/fraud.yaml for dataset ``name`` (so tests do not share a dataset)."""
    text = FRAUD_SPEC.read_text(encoding="utf-8")
    assert text.count("\nname: fraud\n") == 1
    path = directory / f"{name}.yaml"
    path.write_text(text.replace("\nname: fraud\n", f"\nname: {name}\n"), encoding="utf-8")
    return path


async def spec_events(bootstrap: str, dataset: str) -> list[dict[str, object]]:
    """Every ``spec applied`` event of ``dataset`` on the specs topic, read from the start."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()  # fetches the metadata partitions_for_topic answers from
        partitions = [
            TopicPartition(SPECS_TOPIC, p) for p in consumer.partitions_for_topic(SPECS_TOPIC) or ()
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: list[dict[str, object]] = []
        while any([await consumer.position(p) < end for p, end in ends.items()]):
            batches = await consumer.getmany(timeout_ms=200)
            found += [json.loads(r.value) for batch in batches.values() for r in batch]
        return [event for event in found if event.get("dataset") == dataset]
    finally:
        await consumer.stop()


@pytest.fixture
def dataset() -> str:
    """A dataset name no other test uses."""
    return f"cli-{uuid.uuid4().hex[:10]}"


async def test_apply_publishes_spec_applied_once_and_again_changes_nothing(
    registry_service: RunningService, infra: dict[str, str], tmp_path: Path, dataset: str
) -> None:
    env = registry_service.settings()
    spec = spec_named(tmp_path, dataset)

    first = driftloop(env, "spec", "apply", str(spec))
    assert first.exit_code == 0, first.output
    assert first.stdout == f"applied {dataset} as version 1\n"
    [event] = await spec_events(infra["DRIFTLOOP_KAFKA_BOOTSTRAP"], dataset)
    assert event["event_type"] == "spec.applied"
    assert event["spec_version"] == 1

    again = driftloop(env, "spec", "apply", str(spec))
    assert again.exit_code == 0, again.output
    assert again.stdout == f"unchanged: {dataset} is identical to version 1\n"
    assert len(await spec_events(infra["DRIFTLOOP_KAFKA_BOOTSTRAP"], dataset)) == 1


def test_spec_list_and_show_read_with_a_viewer_token(
    registry_service: RunningService, tmp_path: Path, dataset: str
) -> None:
    spec = spec_named(tmp_path, dataset)
    applied = driftloop(registry_service.settings(), "spec", "apply", "--json", str(spec))
    assert applied.exit_code == 0, applied.output
    digest = json.loads(applied.stdout)["digest"]
    viewer = {**registry_service.settings(), "DRIFTLOOP_TOKEN": registry_service.viewer_token}

    table = driftloop(viewer, "spec", "list")
    assert table.exit_code == 0, table.output
    [row] = [line.split() for line in table.stdout.splitlines() if line.startswith(dataset)]
    assert row[:3] == [dataset, "1", digest[:12]]
    listed = json.loads(driftloop(viewer, "spec", "list", "--json").stdout)
    assert {"name": dataset, "version": 1, "digest": digest}.items() <= next(
        d for d in listed if d["name"] == dataset
    ).items()

    shown = driftloop(viewer, "spec", "show", dataset, "--version", "1")
    assert shown.exit_code == 0, shown.output
    assert f"digest   {digest}" in shown.stdout
    assert re.search(r"^applied  \S+ \S+ by alice$", shown.stdout, re.MULTILINE)
    assert f"name: {dataset}\n" in shown.stdout


async def test_models_runs_promote_and_rollback_of_registered_versions(
    registry_service: RunningService, infra: dict[str, str], tmp_path: Path, dataset: str
) -> None:
    env = registry_service.settings()
    assert driftloop(env, "spec", "apply", str(spec_named(tmp_path, dataset))).exit_code == 0
    await register(registry_service, infra, dataset, version=1, roc_auc=0.80, champion=None)
    await register(registry_service, infra, dataset, version=2, roc_auc=0.82, champion=(1, 0.80))

    models = driftloop(env, "models", "list").stdout.splitlines()
    assert [dataset, dataset, "v2", "(rev", "2)", "-"] in [line.split()[:6] for line in models]
    versions = driftloop(env, "models", "list", dataset)
    rows = [line.split() for line in versions.stdout.splitlines()]
    assert [row[:3] for row in rows] == [
        ["VERSION", "STAGE", "METRICS"],
        ["1", "archived", "roc_auc=0.8"],
        ["2", "champion", "roc_auc=0.82"],
    ]
    shown = driftloop(env, "models", "show", dataset, "2")
    assert "  parent version  1\n" in shown.stdout
    assert "(5000 rows)" in shown.stdout
    runs = driftloop(env, "runs", "list", dataset, "--json")
    assert [run["status"] for run in json.loads(runs.stdout)] == ["succeeded", "succeeded"]

    back = driftloop(env, "models", "rollback", dataset, "--reason", "alerts after v2")
    assert back.stdout == f"rolled back the champion of {dataset} to version 1 (was version 2)\n"
    stale = ["models", "promote", dataset, "2", "--reason", "again", "--expected-revision", "2"]
    lost = driftloop(env, *stale)
    assert lost.exit_code == 1
    assert f"champion of {dataset} moved meanwhile" in lost.stderr
    assert "(HTTP 409)" in lost.stderr
    again = driftloop(env, *stale[:-1], "3")
    assert again.stdout == f"promoted {dataset} version 2 to champion (was version 1)\n"


async def register(
    service: RunningService,
    infra: dict[str, str],
    dataset: str,
    *,
    version: int,
    roc_auc: float,
    champion: tuple[int, float] | None,
) -> None:
    """Store a model and publish its training result; wait until it is the champion."""
    artifact = await store_model(service, dataset, version, seed=version)
    await publish_training(
        infra, training_result(dataset, artifact, roc_auc=roc_auc, champion=champion)
    )
    await wait_for_json(
        service, f"/v1/models/{dataset}/champion", lambda b: b["version"] == version
    )


def test_a_spec_with_an_error_is_refused_before_the_registry_sees_it(
    registry_service: RunningService, tmp_path: Path, dataset: str
) -> None:
    spec = spec_named(tmp_path, dataset)
    spec.write_text(spec.read_text().replace("holdout: 0.2", "holdout: 2"))

    result = driftloop(registry_service.settings(), "spec", "apply", str(spec))

    assert result.exit_code == 2
    assert "training.holdout" in result.stderr
    listed = json.loads(driftloop(registry_service.settings(), "spec", "list", "--json").stdout)
    assert dataset not in [d["name"] for d in listed]


def test_a_wrong_token_is_refused_with_the_apis_reason(registry_service: RunningService) -> None:
    env = {**registry_service.settings(), "DRIFTLOOP_TOKEN": "not-a-token-of-this-registry"}

    result = driftloop(env, "spec", "list")

    assert result.exit_code == 1
    assert "cannot list the specs: unknown bearer token (HTTP 401)" in result.stderr
    assert "Traceback" not in result.output


def test_a_viewer_cannot_promote(registry_service: RunningService) -> None:
    env = {**registry_service.settings(), "DRIFTLOOP_TOKEN": registry_service.viewer_token}

    result = driftloop(env, "models", "promote", "fraud", "1", "--reason", "try")

    assert result.exit_code == 1
    assert result.stderr.startswith("cannot promote fraud version 1 to champion: victor has")
    assert "this needs approver (HTTP 403)" in result.stderr


def test_models_and_runs_of_nothing_yet(registry_service: RunningService, dataset: str) -> None:
    env = registry_service.settings()

    models = driftloop(env, "models", "list", "--json")
    assert models.exit_code == 0, models.output
    assert isinstance(json.loads(models.stdout), list)

    unknown = driftloop(env, "models", "show", dataset, "1")
    assert unknown.exit_code == 1
    assert f"model {dataset} version 1 does not exist (HTTP 404)" in unknown.stderr

    runs = driftloop(env, "runs", "list", dataset)
    assert runs.exit_code == 0, runs.output
    assert runs.stdout == f"no training runs of {dataset} yet\n"

    rollback = driftloop(env, "models", "rollback", dataset, "--reason", "nothing to undo")
    assert rollback.exit_code == 1
    assert f"{dataset} has no earlier champion to roll back to (HTTP 409)" in rollback.stderr


def test_an_unreachable_registry_is_named(registry_service: RunningService) -> None:
    url = f"http://127.0.0.1:{free_port()}"

    result = driftloop(registry_service.settings(), "spec", "list", "--registry-url", url)

    assert result.exit_code == 1
    assert result.stderr.startswith(f"cannot reach the registry at {url}: ")


def test_the_installed_command_reads_local_env_like_after_local_up(
    registry_service: RunningService, tmp_path: Path
) -> None:
    local_env = tmp_path / LOCAL_ENV_FILE
    local_env.parent.mkdir()
    settings = {"DRIFTLOOP_KAFKA_BOOTSTRAP": "127.0.0.1:1", **registry_service.settings()}
    local_env.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
    clean = {k: v for k, v in os.environ.items() if k not in registry_service.settings()}

    result = subprocess.run(
        [sys.executable, "-c", "from driftloop_cli.main import app; app()", "spec", "list"],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("DATASET") or result.stdout.startswith("no specs yet")
