"""The trainer service as its own process on the embedded broker and store: the first model,
manual requests, failures, coalescing, and replicas sharing datasets through the lease.

Processes take seconds to start (each consumer group's join waits for the group to settle), so
one process serves the module's tests, each on datasets of its own."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from sklearn.linear_model import LogisticRegression

from driftloop_artifacts import GridFSArtifactStore, artifact_id_from_uri, decode_model
from driftloop_contracts import (
    SPECS_TOPIC,
    TRAIN_REQUESTS_TOPIC,
    TRAININGS_TOPIC,
    SpecApplied,
    TrainingCompleted,
    TrainRequested,
)
from driftloop_offline import OfflineWriter
from tests.integration.ingestion.helpers import run_cli
from tests.integration.kafka_helpers import produce, read_all, unique
from tests.integration.trainer.conftest import Database, TrainerProcess
from tests.integration.trainer.data import served_vectors, trainer_spec

pytestmark = pytest.mark.integration

TRACE_ID, PARENT_SPAN = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"


def boosted(trees: int) -> dict[str, Any]:
    """A model that takes its time: about a second to fit and store per 300 trees here."""
    params = {"n_estimators": trees, "max_depth": 4, "learning_rate": 0.01, "random_state": 0}
    return {
        "kind": "sklearn",
        "estimator": "sklearn.ensemble.GradientBoostingClassifier",
        "params": params,
    }


async def publish(
    bootstrap: str,
    topic: str,
    events: Sequence[SpecApplied | TrainRequested],
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    messages = [(e.dataset.encode(), e.model_dump_json().encode(), headers or []) for e in events]
    await produce(bootstrap, topic, messages)


async def with_data(
    infra: dict[str, str], database: Database, label: bool | None = None, **spec: Any
) -> str:
    """A new dataset: its spec applied on the specs topic, 100 labelled rows in the offline
    store of ``database`` (all labelled ``label`` if given); returns its name."""
    dataset = unique("cards")
    applied_spec, applied = trainer_spec(dataset, **spec)
    await publish(infra["DRIFTLOOP_KAFKA_BOOTSTRAP"], SPECS_TOPIC, [applied])
    writer = OfflineWriter(database, label_wait=timedelta(days=7))  # as the feature service
    await writer.add_rows(served_vectors(applied_spec, 100, label=label), datetime.now(UTC))
    return dataset


async def spans_of(trainer: TrainerProcess, trace_id: str, count: int) -> list[dict[str, Any]]:
    """The spans of ``trace_id`` in the trainer's traces file, once there are ``count`` (spans
    are written in batches, every few seconds)."""
    for _ in range(60):
        lines = trainer.traces.read_text().splitlines() if trainer.traces.exists() else []
        spans = [span for span in map(json.loads, lines) if span["trace_id"] == trace_id]
        if len(spans) >= count:
            return spans
        await asyncio.sleep(0.5)
    return spans


def request(dataset: str) -> TrainRequested:
    return TrainRequested(
        event_id=f"request-{uuid.uuid4().hex[:12]}",
        occurred_at=datetime.now(UTC),
        producer="cli",
        dataset=dataset,
        reason="manual",
        requested_by="tester",
    )


async def results_of(
    bootstrap: str, dataset: str, count: int, timeout_s: float = 60
) -> list[TrainingCompleted]:
    """The training results of ``dataset`` on the trainings topic, once there are ``count``
    (or the timeout has passed)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        records = await read_all(bootstrap, TRAININGS_TOPIC, expect=10**7, timeout_s=0.5)
        results = [TrainingCompleted.model_validate_json(r.value) for r in records]
        mine = [r for r in results if r.dataset == dataset]
        if len(mine) >= count or asyncio.get_running_loop().time() > deadline:
            return mine
        await asyncio.sleep(0.3)


async def test_the_first_model_then_a_manual_request(
    infra: dict[str, str], trainer_service: TrainerProcess, trainer_database: Database
) -> None:
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    dataset = await with_data(infra, trainer_database)
    [first] = await results_of(bootstrap, dataset, 1)
    assert (first.status, first.causation_id) == ("succeeded", f"bootstrap:{dataset}:0")
    assert first.artifact is not None
    artifacts = GridFSArtifactStore(trainer_database)
    stored = await artifacts.get(artifact_id_from_uri(first.artifact.uri))
    model = decode_model(stored, expected_sha256=first.artifact.sha256)
    assert isinstance(model, LogisticRegression)

    manual = request(dataset)
    traceparent = f"00-{TRACE_ID}-{PARENT_SPAN}-01"  # as an upstream producer's span sets it
    await publish(
        bootstrap, TRAIN_REQUESTS_TOPIC, [manual], [("traceparent", traceparent.encode())]
    )
    _, second = await results_of(bootstrap, dataset, 2)
    assert (second.status, second.causation_id) == ("succeeded", manual.event_id)
    assert second.run_id != first.run_id

    newest, oldest = trainer_service.get(f"/v1/runs?dataset={dataset}")
    assert (newest["run_id"], oldest["run_id"]) == (second.run_id, first.run_id)
    assert newest["triggers"][0]["event_id"] == manual.event_id
    assert newest["metrics"] == second.metrics
    assert {"fit_s", "evaluate_s"} <= newest["durations"].keys()

    spans = await spans_of(trainer_service, TRACE_ID, 8)
    [run] = [s for s in spans if s["name"] == "trainer.train"]
    assert run["parent_span_id"] == PARENT_SPAN
    assert run["attributes"]["driftloop.run_id"] == second.run_id
    steps = {s["name"] for s in spans if s["parent_span_id"] == run["span_id"]}
    assert steps == {
        "trainer.champion",
        "trainer.load",
        "trainer.fit",
        "trainer.evaluate",
        "trainer.reference",
        "trainer.store",
        f"{TRAININGS_TOPIC} publish",
    }


async def test_driftloop_train_asks_for_a_run_from_a_window_start(
    infra: dict[str, str], trainer_service: TrainerProcess, trainer_database: Database
) -> None:
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    dataset = await with_data(infra, trainer_database)
    await results_of(bootstrap, dataset, 1)
    # All rows are older than an hour: the run takes the spec's minimum, the most recent ones.
    asked = await run_cli(bootstrap, "train", dataset, "--window-start", "1h", "--by", "tester")
    assert asked.exit_code == 0, asked.output
    _, result = await results_of(bootstrap, dataset, 2)
    assert result.causation_id is not None
    assert result.causation_id in asked.output
    assert result.data_window is not None
    assert result.data_window.row_count == 40
    run = await trainer_database["trainer_runs"].find_one({"_id": result.run_id})
    assert run is not None
    assert run["triggers"][0]["requested_by"] == "tester"


async def test_a_failed_training_is_published_and_the_service_goes_on(
    infra: dict[str, str], trainer_service: TrainerProcess, trainer_database: Database
) -> None:
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    broken = await with_data(infra, trainer_database, label=False)
    [failed] = await results_of(bootstrap, broken, 1)
    assert failed.status == "failed"
    assert failed.failure_reason is not None
    assert failed.failure_reason.startswith("a single class in the 75 training rows")
    fine = await with_data(infra, trainer_database)
    [succeeded] = await results_of(bootstrap, fine, 1)
    assert succeeded.status == "succeeded"
    assert trainer_service.stats()["failed"] >= 1


async def test_requests_that_come_together_are_served_by_one_training(
    infra: dict[str, str], trainer_service: TrainerProcess, trainer_database: Database
) -> None:
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    dataset = await with_data(infra, trainer_database)
    await results_of(bootstrap, dataset, 1)
    both = [request(dataset), request(dataset)]
    await publish(bootstrap, TRAIN_REQUESTS_TOPIC, both)
    await results_of(bootstrap, dataset, 2)
    await asyncio.sleep(2)  # a third result would have come by now
    results = await results_of(bootstrap, dataset, 3, timeout_s=0)
    assert len(results) == 2
    run = await trainer_database["trainer_runs"].find_one({"_id": results[1].run_id})
    assert run is not None
    assert set(run["served_triggers"]) == {r.event_id for r in both}
    assert trainer_service.stats()["coalesced"] >= 1


async def test_two_replicas_never_train_one_dataset_at_once(
    infra: dict[str, str],
    trainer_service: TrainerProcess,
    second_trainer: TrainerProcess,
    trainer_database: Database,
) -> None:
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    dataset = await with_data(infra, trainer_database, model=boosted(300))
    await results_of(bootstrap, dataset, 1)
    for count in (2, 3):  # each request after the last run: a run each
        await publish(bootstrap, TRAIN_REQUESTS_TOPIC, [request(dataset)])
        await results_of(bootstrap, dataset, count)

    runs = trainer_database["trainer_runs"]
    done = await runs.find({"dataset": dataset}).sort("started_at").to_list()
    assert [r["status"] for r in done] == ["succeeded"] * 3
    for earlier, later in pairwise(done):
        assert earlier["finished_at"] <= later["started_at"], (earlier, later)
    replicas = (trainer_service, second_trainer)
    assert sum(r.stats().get("lease_busy", 0) for r in replicas) >= 1


# Last in the module: it kills one of the module's two trainers.
async def test_a_killed_trainers_lease_expires_and_the_other_trains_in_its_place(
    infra: dict[str, str],
    trainer_service: TrainerProcess,
    second_trainer: TrainerProcess,
    trainer_database: Database,
) -> None:
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    dataset = await with_data(infra, trainer_database, model=boosted(1000))
    runs = trainer_database["trainer_runs"]
    running = None
    for _ in range(300):
        if running := await runs.find_one({"dataset": dataset, "status": "running"}):
            break
        await asyncio.sleep(0.1)
    assert running is not None
    replicas = {p.env["DRIFTLOOP_WORKER_ID"]: p for p in (trainer_service, second_trainer)}
    killed = replicas.pop(running["holder"])
    killed.kill()  # in the middle of its training, holding the lease
    [survivor] = replicas

    [result] = await results_of(bootstrap, dataset, 1)
    assert (result.status, result.causation_id) == ("succeeded", f"bootstrap:{dataset}:0")
    crashed, finished = await runs.find({"dataset": dataset}).sort("number").to_list()
    assert (crashed["_id"], crashed["status"]) == (running["_id"], "abandoned")
    assert (finished["holder"], finished["_id"]) == (survivor, result.run_id)
