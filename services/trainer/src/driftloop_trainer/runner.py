"""One training run of a dataset whose lease this replica holds: train, record, publish.

A run never raises for a bad outcome: whatever stops it (too few rows, one class, an estimator
error, anything) becomes a failed result with the reason, published like a success. Only a
lost lease ends a run without a result: the replica that holds the lease now serves the
triggers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Link

from driftloop_artifacts import ArtifactError, ArtifactStore, StoredArtifact, encode_model
from driftloop_contracts import TRAININGS_TOPIC, TrainingCompleted
from driftloop_offline import LabelJoin, OfflineReader
from driftloop_runtime import EventPublisher, Outgoing
from driftloop_runtime.mongo import Document
from driftloop_trainer.champion import ChampionLoader
from driftloop_trainer.clock import Clock, utc_now
from driftloop_trainer.dataset import TrainingError, TrainingSet, build_training_set
from driftloop_trainer.policy import window_start
from driftloop_trainer.results import Run, failed_result, succeeded_result
from driftloop_trainer.store import RunStore, TriggerStore
from driftloop_trainer.threads import in_daemon_thread, with_model_threads
from driftloop_trainer.training import StepLog, train

__all__ = ["Runner"]

logger = logging.getLogger(__name__)
_tracer = trace.get_tracer("driftloop.trainer")


class Runner:
    """Carries out runs and publishes their results."""

    def __init__(
        self,
        *,
        offline: OfflineReader,
        champions: ChampionLoader,
        artifacts: ArtifactStore,
        runs: RunStore,
        triggers: TriggerStore,
        publisher: EventPublisher,
        signing_key: bytes | None,
        bins: int,
        model_threads: int = 1,
        clock: Clock = utc_now,
    ) -> None:
        """Read rows from ``offline``, compare with ``champions``, store models in ``artifacts``
        (river ones signed with ``signing_key``), summarise features in ``bins`` bins, fit and
        evaluate with ``model_threads`` threads."""
        self._offline = offline
        self._champions = champions
        self._artifacts = artifacts
        self._runs = runs
        self._triggers = triggers
        self._publisher = publisher
        self._key = signing_key
        self._bins = bins
        self._model_threads = model_threads
        self._clock = clock

    async def execute(
        self, run: Run, still_ours: Callable[[], Awaitable[bool]]
    ) -> tuple[TrainingCompleted, list[str]] | None:
        """Run ``run`` in a span that continues its first trigger's trace (and links the
        others'); return its result and the triggers it served, or ``None`` if the lease was
        lost meanwhile (the run is then recorded as abandoned)."""
        await self._runs.start(run.record())
        first, *others = run.triggers
        links = [Link(trace.get_current_span(t.trace_context()).get_span_context()) for t in others]
        attributes = {"driftloop.dataset": run.dataset, "driftloop.run_id": run.run_id}
        with _tracer.start_as_current_span(
            "trainer.train", context=first.trace_context(), links=links, attributes=attributes
        ):
            log = StepLog()
            result, notes = await self._attempt(run, log)
            if not await still_ours():
                await self._runs.finish(run.run_id, _abandoned(self._clock()))
                return None
            await self._runs.finish(run.run_id, _finished(run, result, log, notes))
            return result, await self.deliver(run.run_id, result)

    async def deliver(self, run_id: str, result: TrainingCompleted) -> list[str]:
        """Publish a recorded result, then mark the triggers it served (those recorded until
        it finished); return their ids. Also what republishes a stored, unpublished result."""
        await self._publisher.publish([Outgoing(TRAININGS_TOPIC, result.dataset, result)])
        now = self._clock()
        served = await self._triggers.serve(result.dataset, run_id, result.occurred_at, now)
        await self._runs.mark_published(run_id, served, now)
        return served

    async def _attempt(self, run: Run, log: StepLog) -> tuple[TrainingCompleted, Document]:
        try:
            return await self._produce(run, log)
        except TrainingError as failure:
            return failed_result(run, self._clock(), str(failure)), {}
        except Exception as error:  # a failed run is published, whatever failed
            logger.exception("training run %s failed", run.run_id)
            reason = f"unexpected error: {type(error).__name__}: {error}"
            return failed_result(run, self._clock(), reason), {}

    async def _produce(self, run: Run, log: StepLog) -> tuple[TrainingCompleted, Document]:
        spec = run.spec
        with log.step("champion"):
            champion = await self._champions.load(run.dataset)
        with log.step("load"):
            window = timedelta(seconds=spec.training.window)
            join = LabelJoin.of(spec.lateness)
            frame = await self._offline.window(run.dataset, spec.feature_columns(), join, window)
        data = build_training_set(frame, spec, window_start(run.triggers))
        fitted = partial(
            train, spec, data, champion.model if champion else None, bins=self._bins, log=log
        )
        outcome = await in_daemon_thread(
            with_model_threads(fitted, self._model_threads), name=f"train-{run.run_id}"
        )
        with log.step("store"):
            artifact = await self._store(run, outcome.model)
        result = succeeded_result(
            run, self._clock(), data=data, outcome=outcome, champion=champion, artifact=artifact
        )
        errors = [e for e in (champion and champion.error, outcome.champion_error) if e]
        return result, {"rows": _rows(data), "champion_error": errors[0] if errors else None}

    async def _store(self, run: Run, model: Any) -> StoredArtifact:
        """The candidate in GridFS as version ``run.number`` of the dataset's model (the run's
        number: the registry numbers versions itself)."""
        try:
            artifact = await in_daemon_thread(partial(encode_model, model, signing_key=self._key))
            return await self._artifacts.put(
                artifact,
                name=run.model_name,
                version=run.number,
                metadata={"run_id": run.run_id, "spec_version": run.spec_version},
            )
        except ArtifactError as error:  # includes a river model without a signing key
            raise TrainingError(f"the model cannot be stored: {error}") from None


def _rows(data: TrainingSet) -> Document:
    return {"train": len(data.train_y), "holdout": len(data.holdout_y), "dropped": data.dropped}


def _finished(run: Run, result: TrainingCompleted, log: StepLog, notes: Document) -> Document:
    return {
        "status": result.status,
        "finished_at": result.occurred_at,
        "duration_s": round((result.occurred_at - run.started_at).total_seconds(), 4),
        "failure_reason": result.failure_reason,
        "metrics": result.metrics,
        "champion_version": result.champion_version,
        "champion_metrics": result.champion_metrics,
        "data_window": result.data_window.model_dump() if result.data_window else None,
        "artifact": result.artifact.model_dump() if result.artifact else None,
        "durations": log.durations,
        **notes,
        "event": result.model_dump(mode="json"),
    }


def _abandoned(now: datetime) -> Document:
    return {"status": "abandoned", "finished_at": now, "failure_reason": "the lease was lost"}
