"""A run's triggers and its result: the events the trainer consumes and publishes."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from dataclasses import replace
from datetime import timedelta
from typing import TypeVar

import pytest

from driftloop_artifacts import StoredArtifact
from driftloop_contracts import DriftDetected, Event, TrainRequested
from driftloop_runtime import Incoming, SourceRecord
from driftloop_spec import DatasetSpec
from driftloop_trainer.champion import Champion
from driftloop_trainer.dataset import build_training_set
from driftloop_trainer.results import Run, failed_result, model_params, succeeded_result
from driftloop_trainer.threads import in_daemon_thread
from driftloop_trainer.training import StepLog, train
from driftloop_trainer.triggers import Trigger, from_drift, from_request
from tests.integration.trainer.data import T0, labelled_rows, trainer_spec

pytestmark = pytest.mark.unit

E = TypeVar("E", bound=Event)

SPEC, _ = trainer_spec("cards")
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
ARTIFACT = StoredArtifact(
    id="6650c0ffee",
    uri="gridfs://artifacts/6650c0ffee",
    name="cards",
    version=3,
    sha256="a" * 64,
    size=10,
    format="skops",
)


def incoming(event: E) -> Incoming[E]:
    headers = (("traceparent", TRACEPARENT.encode()), ("content-type", b"application/json"))
    return Incoming(event, SourceRecord("topic", 0, 7, b"cards", b"{}", headers))


def run(*triggers: Trigger) -> Run:
    return Run.new(3, 2, SPEC, triggers=triggers, holder="w1", started_at=T0, code_version="0.1.0")


def test_a_drift_alarm_trains_from_its_change_point_in_its_trace() -> None:
    alarm = DriftDetected.example().model_copy(update={"dataset": "cards"})
    trigger = from_drift(incoming(alarm))
    assert (trigger.reason, trigger.requested_by, trigger.automatic) == ("drift", "monitor", True)
    assert trigger.window_start == alarm.change_point.event_time  # type: ignore[union-attr]
    assert trigger.detail is not None
    assert "psi 0.31 (threshold 0.2)" in trigger.detail
    assert dict(trigger.trace) == {"traceparent": TRACEPARENT}
    assert Trigger.from_document(trigger.document(T0)) == replace(trigger, received_at=T0)


def test_a_manual_request_keeps_its_window_start_and_requester() -> None:
    start = T0 - timedelta(days=2)
    request = TrainRequested.example().model_copy(update={"window_start": start})
    trigger = from_request(incoming(request))
    assert (trigger.reason, trigger.automatic, trigger.window_start) == ("manual", False, start)
    assert trigger.requested_by == "alice@example.com"


def test_a_succeeded_result_names_its_run_artifact_window_and_cause() -> None:
    data = build_training_set(labelled_rows(SPEC, 100), SPEC)
    outcome = train(SPEC, data, None, bins=10, log=StepLog())
    first = Trigger("drift-1", "cards", "drift", "monitor", T0)
    the_run = run(first, Trigger("req-2", "cards", "manual", "alice", T0))
    result = succeeded_result(
        the_run,
        T0 + timedelta(minutes=1),
        data=data,
        outcome=outcome,
        champion=None,
        artifact=ARTIFACT,
    )
    assert result.event_id == f"training.completed:{the_run.run_id}"
    assert the_run.run_id.startswith("cards-3-")
    assert (result.model_name, result.spec_version, result.causation_id) == ("cards", 2, "drift-1")
    assert result.artifact is not None
    assert result.artifact.uri == ARTIFACT.uri
    assert result.data_window is not None
    assert result.data_window.row_count == 100
    assert (result.champion_version, result.champion_metrics) == (None, None)
    assert result.params == {"C": 1.0, "max_iter": 500}


def test_a_champion_that_did_not_load_is_reported_with_empty_metrics() -> None:
    data = build_training_set(labelled_rows(SPEC, 100), SPEC)
    outcome = train(SPEC, data, None, bins=10, log=StepLog())
    broken = Champion(version=4, error="champion version 4 not loaded: ArtifactRefused: digest")
    result = succeeded_result(
        run(Trigger("r", "cards", "manual", "a", T0)),
        T0,
        data=data,
        outcome=outcome,
        champion=broken,
        artifact=ARTIFACT,
    )
    # The registry holds such a candidate for an approver instead of promoting it unopposed.
    assert (result.champion_version, result.champion_metrics) == (4, {})


def test_a_failed_result_carries_its_reason() -> None:
    result = failed_result(run(Trigger("r", "cards", "manual", "a", T0)), T0, "x" * 5000)
    assert result.status == "failed"
    assert result.failure_reason == "x" * 4096
    assert result.artifact is None


def test_pipeline_params_are_named_after_their_step() -> None:
    document = SPEC.to_document()
    document["model"] = {
        "kind": "sklearn",
        "pipeline": [
            {"estimator": "sklearn.preprocessing.StandardScaler", "params": {"with_mean": False}},
            {"estimator": "sklearn.linear_model.LogisticRegression", "params": {"C": 0.5}},
        ],
    }
    params = model_params(DatasetSpec.from_document(document).model)
    assert params == {"StandardScaler.with_mean": False, "LogisticRegression.C": 0.5}


async def test_work_in_a_daemon_thread_returns_raises_and_sees_the_callers_context() -> None:
    where: contextvars.ContextVar[str] = contextvars.ContextVar("where")
    where.set("caller")
    seen = await in_daemon_thread(lambda: (where.get(), threading.current_thread().daemon))
    assert seen == ("caller", True)
    with pytest.raises(ZeroDivisionError):
        await in_daemon_thread(lambda: 1 / 0)


async def test_a_cancelled_wait_leaves_the_thread_to_finish_alone() -> None:
    release = threading.Event()
    waiting = asyncio.ensure_future(in_daemon_thread(release.wait))
    await asyncio.sleep(0.01)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    release.set()
    await asyncio.sleep(0.05)  # the thread's late result is dropped without an error
