"""The training loop in this process on the real document store: bootstrap, coalescing,
cooldown, schedule, failures, crashed holders, champions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from driftloop_artifacts import (
    GridFSArtifactStore,
    artifact_id_from_uri,
    decode_model,
    encode_model,
)
from driftloop_contracts import (
    TRAIN_REQUESTS_TOPIC,
    FeaturesComputed,
    ModelPromoted,
    TrainRequested,
)
from driftloop_modeling import SCORE_REFERENCE
from driftloop_offline import OfflineWriter
from driftloop_runtime import BatchResult, Incoming, SourceRecord
from driftloop_trainer.config import TrainerSettings
from driftloop_trainer.handlers import record_triggers
from driftloop_trainer.lease import LeaseStore
from driftloop_trainer.store import TriggerStore
from driftloop_trainer.triggers import from_request
from tests.integration.trainer.data import T0, labels_later, served_vectors, trainer_spec
from tests.integration.trainer.harness import SIGNING_KEY, Trainer

pytestmark = pytest.mark.integration


def offline(trainer: Trainer) -> OfflineWriter:
    """The offline store's writer (the feature service's) on the trainer's database."""
    return OfflineWriter(trainer.database, label_wait=timedelta(days=7))


async def serve(trainer: Trainer, vectors: list[FeaturesComputed]) -> None:
    """Store ``vectors`` (and their inline labels) in the offline store, served now."""
    await offline(trainer).add_rows(vectors, trainer.clock.now)


async def with_rows(trainer: Trainer, dataset: str, count: int = 100, **spec: Any) -> None:
    """Apply ``dataset``'s spec and put ``count`` labelled rows in the offline store."""
    applied_spec, applied = trainer_spec(dataset, **spec)
    trainer.specs.apply(applied)
    await serve(trainer, served_vectors(applied_spec, count))


async def test_the_first_model_is_trained_once_enough_rows_exist(trainer: Trainer) -> None:
    worker = trainer.worker()
    await with_rows(trainer, "cards", count=30)  # the spec needs 40
    await worker.tick()
    assert trainer.published.results == []
    later = T0 + timedelta(minutes=5 * 30)  # right after the first 30, five minutes apart
    await serve(trainer, served_vectors(trainer_spec("cards")[0], 20, start=later, seed=1))
    await worker.tick()
    await worker.tick()  # nothing more: the dataset has its model

    [result] = trainer.published.results
    assert (result.status, result.causation_id, result.model_name) == (
        "succeeded",
        "bootstrap:cards:0",
        "cards",
    )
    assert result.data_window is not None
    assert result.data_window.row_count == 50
    assert set(result.reference) == {*trainer_spec("cards")[0].feature_columns(), SCORE_REFERENCE}
    assert result.artifact is not None
    stored = await GridFSArtifactStore(trainer.database).get(
        artifact_id_from_uri(result.artifact.uri)
    )
    model = decode_model(stored, expected_sha256=result.artifact.sha256)
    assert isinstance(model, LogisticRegression)
    [run] = await trainer.runs("cards")
    assert (run["status"], run["published"], run["code_version"]) == ("succeeded", True, "test")
    assert run["rows"] == {"train": 37, "holdout": 13, "dropped": 0}
    assert {"champion_s", "load_s", "fit_s", "evaluate_s", "reference_s", "store_s"} <= set(
        run["durations"]
    )


async def test_triggers_that_wait_together_are_served_by_one_run(trainer: Trainer) -> None:
    await with_rows(trainer, "cards")
    worker = trainer.worker()
    for reason in ("drift", "manual", "manual"):
        await trainer.trigger("cards", reason)
    await worker.tick()

    assert len(trainer.published.results) == 1
    [run] = await trainer.runs("cards")
    assert len(run["served_triggers"]) >= 3
    assert [t["reason"] for t in run["triggers"]][:3] == ["drift", "manual", "manual"]
    assert worker.counts["coalesced"] == len(run["served_triggers"]) - 1
    await worker.tick()
    assert len(trainer.published.results) == 1  # nothing left to serve


async def test_drift_waits_out_the_cooldown_but_a_manual_request_does_not(trainer: Trainer) -> None:
    await with_rows(trainer, "cards", cooldown="10m")
    worker = trainer.worker()
    await worker.tick()  # the bootstrap
    await trainer.trigger("cards", "drift")
    await worker.tick()
    assert len(trainer.published.results) == 1  # cooling down
    trainer.clock.advance(minutes=10)
    await worker.tick()
    assert len(trainer.published.results) == 2
    await trainer.trigger("cards", "drift", event_id="drift-b")
    await trainer.trigger("cards", "manual", event_id="manual-c")
    await worker.tick()
    assert len(trainer.published.results) == 3
    *_, last = await trainer.runs("cards")
    assert sorted(last["served_triggers"]) == ["drift-b", "manual-c"]


async def test_a_drift_alarm_waits_for_a_runs_worth_of_labelled_rows_after_the_change(
    trainer: Trainer,
) -> None:
    await with_rows(trainer, "cards", count=100)  # the spec needs 40 rows; 5 minutes apart
    worker = trainer.worker()
    await worker.tick()  # the bootstrap
    change = T0 + timedelta(minutes=5 * 100)  # right after the rows there are
    await trainer.trigger("cards", "drift", window_start=change)
    # the rows since the change are served at once, their labels come later (an hour each)
    rows, labels = labels_later(served_vectors(trainer_spec("cards")[0], 40, start=change, seed=2))
    await serve(trainer, rows)
    await offline(trainer).add_labels(labels[:30], trainer.clock.now)
    await worker.tick()
    assert len(trainer.published.results) == 1  # 30 labelled since the change: not enough yet
    assert worker.counts["waiting_for_post_change_rows"] == 1
    await offline(trainer).add_labels(labels[30:], trainer.clock.now)
    await worker.tick()
    [_, result] = trainer.published.results
    assert result.data_window is not None
    # the changed world only: the 40 rows since the change, none from before it
    assert (result.data_window.row_count, result.data_window.first_event_time) == (40, change)


async def test_a_drift_alarm_trains_on_what_there_is_after_waiting_its_limit(
    trainer: Trainer,
) -> None:
    await with_rows(trainer, "cards", count=100)
    worker = trainer.worker()
    await worker.tick()
    change = T0 + timedelta(minutes=5 * 90)  # 10 rows after it
    await trainer.trigger("cards", "drift", window_start=change)
    await worker.tick()
    assert len(trainer.published.results) == 1
    trainer.clock.advance(seconds=TrainerSettings().post_change_wait_s)
    await worker.tick()
    [_, result] = trainer.published.results
    assert result.data_window is not None
    assert result.data_window.row_count == 40  # the most recent 40: the spec's minimum


async def test_the_schedule_retrains_after_its_period(trainer: Trainer) -> None:
    await with_rows(trainer, "cards", schedule="1h")
    worker = trainer.worker()
    await worker.tick()
    trainer.clock.advance(minutes=59)
    await worker.tick()
    assert len(trainer.published.results) == 1
    trainer.clock.advance(minutes=2)
    await worker.tick()
    bootstrap, scheduled = trainer.published.results
    assert bootstrap.causation_id == "bootstrap:cards:0"
    assert scheduled.causation_id is not None
    assert scheduled.causation_id.startswith("schedule:cards:")


async def test_a_failed_training_publishes_its_reason_and_the_loop_goes_on(
    trainer: Trainer,
) -> None:
    applied_spec, applied = trainer_spec("cards")
    trainer.specs.apply(applied)
    await serve(trainer, served_vectors(applied_spec, 60, label=False))
    worker = trainer.worker()
    await worker.tick()
    [failed] = trainer.published.results
    assert failed.status == "failed"
    assert failed.failure_reason is not None
    assert failed.failure_reason.startswith("a single class in the 45 training rows (False)")
    assert (worker.counts["failed"], worker.counts["runs"]) == (1, 1)
    await trainer.trigger("cards", "manual")
    await worker.tick()
    assert [r.status for r in trainer.published.results] == ["failed", "failed"]


async def test_a_request_for_a_dataset_without_a_spec_is_dropped(
    trainer: Trainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_specs(*_: object) -> list[object]:
        return []

    monkeypatch.setattr("driftloop_trainer.worker.read_topic", no_specs)
    worker = trainer.worker()
    await trainer.trigger("nowhere", "manual")
    await worker.tick()
    assert trainer.published.results == []
    assert worker.counts["dropped"] == 1
    await worker.tick()
    assert worker.counts["dropped"] == 1


async def test_a_lease_held_elsewhere_waits_until_it_expires(trainer: Trainer) -> None:
    await with_rows(trainer, "cards")
    other = LeaseStore(trainer.database, ttl=timedelta(seconds=30))
    assert await other.acquire("cards", "crashed", trainer.clock.now)
    worker = trainer.worker()
    await worker.tick()
    assert trainer.published.results == []
    assert worker.counts["lease_busy"] == 1
    trainer.clock.advance(seconds=31)
    await worker.tick()
    assert len(trainer.published.results) == 1


async def test_a_crashed_holders_runs_are_abandoned_or_published_by_the_next(
    trainer: Trainer,
) -> None:
    await with_rows(trainer, "cards")
    worker = trainer.worker()
    await worker.tick()
    [run] = await trainer.runs("cards")
    runs = trainer.database["trainer_runs"]
    # As if the holder died after recording its result, before publishing it:
    await runs.update_one({"_id": run["_id"]}, {"$set": {"published": False}})
    await runs.insert_one(
        {**run, "_id": "cards-9-dead", "run_id": "cards-9-dead", "number": 9, "status": "running"}
    )
    trainer.published.outgoing.clear()
    trainer.clock.advance(minutes=1)
    await trainer.trigger("cards", "manual", event_id="after-crash")
    await worker.tick()

    republished, fresh = trainer.published.results
    assert republished.model_dump(mode="json") == run["event"]  # the stored event, not a new run
    assert fresh.causation_id == "after-crash"
    dead = await runs.find_one({"_id": "cards-9-dead"})
    assert dead is not None
    assert dead["status"] == "abandoned"
    assert worker.counts["republished"] == 1


async def promote(trainer: Trainer, champion: object, sha256: str | None = None) -> None:
    """Store ``champion`` and tell the trainer's model catalog it serves as version 7 (the
    registry recording ``sha256``, its true digest unless told otherwise)."""
    stored = await GridFSArtifactStore(trainer.database).put(
        encode_model(champion), name="cards", version=100
    )
    promoted = ModelPromoted.example().model_copy(
        update={
            "dataset": "cards",
            "model_name": "cards",
            "version": 7,
            "artifact_sha256": sha256 or stored.sha256,
            "artifact_uri": stored.uri,
        }
    )
    trainer.models.apply(promoted)


async def test_the_candidate_is_compared_with_the_champion(trainer: Trainer) -> None:
    await with_rows(trainer, "cards")
    rng = np.random.default_rng(5)
    width = len(trainer_spec("cards")[0].feature_columns())
    await promote(
        trainer, LogisticRegression().fit(rng.normal(size=(50, width)), rng.random(50) > 0.5)
    )
    worker = trainer.worker()
    await trainer.trigger("cards", "manual")
    await worker.tick()
    [result] = trainer.published.results
    assert result.champion_version == 7
    [run] = await trainer.runs("cards")
    assert run["champion_error"] is None
    assert result.champion_metrics is not None
    assert result.champion_metrics.keys() == result.metrics.keys()
    assert result.metrics["roc_auc"] > result.champion_metrics["roc_auc"]


async def test_a_champion_that_fails_its_digest_is_reported_and_the_candidate_judged_alone(
    trainer: Trainer,
) -> None:
    await with_rows(trainer, "cards")
    await promote(trainer, LogisticRegression().fit(np.eye(2), [True, False]), sha256="0" * 64)
    worker = trainer.worker()
    await trainer.trigger("cards", "manual")
    await worker.tick()
    [result] = trainer.published.results
    assert (result.status, result.champion_version, result.champion_metrics) == ("succeeded", 7, {})
    [run] = await trainer.runs("cards")
    assert run["champion_error"].startswith(
        "champion version 7 not loaded: ArtifactRefused: digest mismatch"
    )


async def test_a_river_model_is_stored_signed(trainer: Trainer) -> None:
    await with_rows(
        trainer,
        "cards",
        model={"kind": "river", "estimator": "river.linear_model.LogisticRegression"},
    )
    worker = trainer.worker()
    await worker.tick()
    [result] = trainer.published.results
    assert result.artifact is not None
    assert result.artifact.format == "river-pickle"
    stored = await GridFSArtifactStore(trainer.database).get(
        artifact_id_from_uri(result.artifact.uri)
    )
    decode_model(stored, signing_key=SIGNING_KEY, expected_sha256=result.artifact.sha256)


async def test_a_redelivered_batch_records_each_trigger_once(trainer: Trainer) -> None:
    worker = trainer.worker()
    handle = record_triggers(TriggerStore(trainer.database), from_request, worker.noticed)
    request = TrainRequested.example().model_copy(update={"dataset": "cards"})
    batch = [Incoming(request, SourceRecord(TRAIN_REQUESTS_TOPIC, 0, 0, b"cards", b"{}"))]
    assert await handle(batch) == BatchResult()
    await handle(batch)
    assert worker.counts["triggers"] == 1
    assert [t.event_id for t in await TriggerStore(trainer.database).pending("cards")] == [
        request.event_id
    ]
