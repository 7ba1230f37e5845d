"""A run's identity and its result: the ``training completed`` event and the run record."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import JsonValue

from driftloop_artifacts import StoredArtifact
from driftloop_contracts import ArtifactRef, DataWindow, TrainingCompleted
from driftloop_contracts.types import MAX_TEXT
from driftloop_runtime.mongo import Document
from driftloop_spec import DatasetSpec, ModelSpec
from driftloop_trainer.champion import Champion
from driftloop_trainer.dataset import TrainingSet
from driftloop_trainer.training import Outcome
from driftloop_trainer.triggers import Trigger

__all__ = ["PRODUCER", "Run", "failed_result", "model_params", "succeeded_result"]

PRODUCER = "trainer"
MAX_PARAMS = 128


@dataclass(frozen=True)
class Run:
    """One training run of a dataset: what it trains with and what started it.

    ``triggers`` are the ones pending when it started, oldest first; the first is its cause
    (``causation_id``, and the parent of its trace).
    """

    run_id: str
    number: int
    dataset: str
    spec_version: int
    spec: DatasetSpec
    triggers: Sequence[Trigger]
    holder: str
    started_at: datetime
    code_version: str

    @classmethod
    def new(cls, number: int, spec_version: int, spec: DatasetSpec, **fields: Any) -> Run:
        """A run numbered ``number``; its id adds a random suffix, so it never repeats a run id
        the registry recorded even if the trainer's records were wiped."""
        run_id = f"{spec.name}-{number}-{secrets.token_hex(4)}"
        return cls(run_id, number, spec.name, spec_version, spec, **fields)

    @property
    def model_name(self) -> str:
        """The registered model the candidate belongs to: one model per dataset, named after it."""
        return self.dataset

    def record(self) -> Document:
        """The run's ``trainer_runs`` document as it starts."""
        return {
            "_id": self.run_id,
            "run_id": self.run_id,
            "number": self.number,
            "dataset": self.dataset,
            "model_name": self.model_name,
            "spec_version": self.spec_version,
            "status": "running",
            "holder": self.holder,
            "started_at": self.started_at,
            "code_version": self.code_version,
            "estimator": [step.estimator for step in self.spec.model.steps()],
            "params": model_params(self.spec.model),
            "triggers": [_trigger_summary(t) for t in self.triggers],
            "published": False,
        }


def succeeded_result(
    run: Run,
    finished_at: datetime,
    *,
    data: TrainingSet,
    outcome: Outcome,
    champion: Champion | None,
    artifact: StoredArtifact,
) -> TrainingCompleted:
    """The result of a run that produced a candidate.

    A champion that could not be loaded or evaluated is reported with empty metrics: the
    registry then holds the candidate for an approver instead of promoting it unopposed.
    """
    return TrainingCompleted(
        **_common(run, finished_at),
        status="succeeded",
        artifact=ArtifactRef(uri=artifact.uri, sha256=artifact.sha256, format=artifact.format),
        metrics=outcome.metrics,
        champion_version=champion.version if champion else None,
        champion_metrics=_champion_metrics(champion, outcome),
        data_window=DataWindow(
            first_event_time=data.first_event_time,
            last_event_time=data.last_event_time,
            row_count=data.rows,
        ),
        reference=dict(outcome.reference),
    )


def failed_result(run: Run, finished_at: datetime, reason: str) -> TrainingCompleted:
    """The result of a run that failed, with its reason."""
    return TrainingCompleted(
        **_common(run, finished_at),
        status="failed",
        failure_reason=reason[:MAX_TEXT] or "unknown failure",
    )


def model_params(model: ModelSpec) -> dict[str, JsonValue]:
    """The spec's parameters of the model: as given for one estimator, ``Step.param`` for the
    steps of a pipeline (at most ``MAX_PARAMS``)."""
    if model.pipeline is None:
        params = dict(model.params)
    else:
        params = {f"{s.class_name}.{k}": v for s in model.pipeline for k, v in s.params.items()}
    return dict(list(params.items())[:MAX_PARAMS])


def _champion_metrics(champion: Champion | None, outcome: Outcome) -> dict[str, float] | None:
    if champion is None:
        return None
    return outcome.champion_metrics if champion.model is not None else {}


def _common(run: Run, finished_at: datetime) -> dict[str, Any]:
    return {
        "event_id": f"training.completed:{run.run_id}",
        "occurred_at": finished_at,
        "producer": PRODUCER,
        "causation_id": run.triggers[0].event_id if run.triggers else None,
        "dataset": run.dataset,
        "run_id": run.run_id,
        "model_name": run.model_name,
        "spec_version": run.spec_version,
        "params": model_params(run.spec.model),
    }


def _trigger_summary(trigger: Trigger) -> Document:
    return {
        "event_id": trigger.event_id,
        "reason": trigger.reason,
        "requested_by": trigger.requested_by,
        "window_start": trigger.window_start,
        "detail": trigger.detail,
    }
