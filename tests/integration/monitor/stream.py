"""A synthetic stream the monitor reads, and the lifecycle events that make a version champion.

Feature vectors and scores are drawn from fixed distributions, and the champion's reference is
a large sample of the same ones: data and prediction drift stay quiet. Labels agree with the
prediction 95% of the time until ``change_at``, then half of the time: the error stream's
abrupt change is what the performance detector (ADWIN in the fraud spec) must find.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from driftloop_contracts import (
    FEATURES_TOPIC,
    MODELS_PROMOTED_TOPIC,
    MODELS_REGISTERED_TOPIC,
    OUTCOMES_VALIDATED_TOPIC,
    PREDICTIONS_TOPIC,
    SPECS_TOPIC,
    TRAININGS_TOPIC,
    Event,
    FeaturesComputed,
    ModelPromoted,
    ModelRegistered,
    OutcomeValidated,
    PredictionMade,
    SpecApplied,
    TrainingCompleted,
)
from driftloop_modeling.reference import SCORE_REFERENCE, numeric_reference
from driftloop_spec import DatasetSpec
from tests.integration.kafka_helpers import produce

START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
STEP = timedelta(seconds=30)
"""Event time between two data events: 120 an hour."""
LABEL_DELAY = timedelta(minutes=2)
SHA = "0" * 64


@dataclass
class Stream:
    """``count`` events of ``dataset`` whose labels change at ``change_at``."""

    spec: DatasetSpec
    count: int
    change_at: int
    seed: int = 3

    @property
    def dataset(self) -> str:
        return self.spec.name

    def when(self, n: int) -> datetime:
        return START + n * STEP

    def _draws(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        columns = self.spec.feature_columns()
        merchants = [c for c in columns if c.startswith("merchant:")]
        values = np.zeros((n, len(columns)))
        values[:, columns.index("log_amount")] = rng.normal(3, 1, n)
        picked = rng.integers(0, len(merchants) - 1, n)  # never __unknown__
        for row, category in enumerate(picked):
            values[row, columns.index(merchants[category])] = 1.0
        values[:, columns.index("foreign_card")] = rng.random(n) < 0.2
        for name in ("hour", "tx_count_1h", "tx_count_24h", "amount_mean_24h", "amount_max_1h"):
            values[:, columns.index(name)] = rng.integers(1, 20, n)
        return values, rng.beta(2, 5, n)

    def reference(self) -> dict[str, Any]:
        """The champion's training reference: the same distributions, 20,000 draws."""
        values, scores = self._draws(20_000, self.seed + 1000)
        found = {
            c: numeric_reference(values[:, i]) for i, c in enumerate(self.spec.feature_columns())
        }
        return {**found, SCORE_REFERENCE: numeric_reference(scores)}

    def events(
        self, version: int = 1
    ) -> tuple[list[FeaturesComputed], list[PredictionMade], list[OutcomeValidated]]:
        """The vectors, the champion's predictions and the labels, in event order."""
        values, scores = self._draws(self.count, self.seed)
        rng = np.random.default_rng(self.seed + 1)
        wrong = np.where(np.arange(self.count) < self.change_at, 0.05, 0.5) > rng.random(self.count)
        vectors, predictions, outcomes = [], [], []
        for n in range(self.count):
            subject, entity, at = f"txn-{self.dataset}-{n}", f"card-{n % 17}", self.when(n)
            predicted = bool(scores[n] > 0.5)
            vectors.append(self._vector(n, subject, entity, at, values[n]))
            predictions.append(
                PredictionMade(
                    event_id=f"prediction:{self.dataset}:{version}:{subject}",
                    occurred_at=at,
                    producer="scorer",
                    subject_event_id=subject,
                    dataset=self.dataset,
                    entity_id=entity,
                    model_name=self.dataset,
                    model_version=version,
                    prediction=predicted,
                    # keyed as the scorer keys them (driftloop_modeling.class_key)
                    scores={"false": 1 - float(scores[n]), "true": float(scores[n])},
                    produced_at=at,
                    features_hash=hashlib.sha256(subject.encode()).hexdigest(),
                    spec_version=1,
                )
            )
            outcomes.append(
                OutcomeValidated(
                    event_id=f"validated:outcome-{subject}",
                    occurred_at=at + LABEL_DELAY,
                    producer="ingestion",
                    dataset=self.dataset,
                    subject_event_id=subject,
                    label=predicted != bool(wrong[n]),
                    entity_id=entity,
                    spec_version=1,
                    source_topic="driftloop.outcomes.v1",
                    source_partition=0,
                    source_offset=n,
                )
            )
        return vectors, predictions, outcomes

    def _vector(
        self, n: int, subject: str, entity: str, at: datetime, row: np.ndarray
    ) -> FeaturesComputed:
        return FeaturesComputed(
            event_id=f"features:{subject}",
            occurred_at=at,
            producer="feature",
            dataset=self.dataset,
            entity_id=entity,
            subject_event_id=subject,
            spec_version=1,
            feature_names=list(self.spec.feature_columns()),
            values=[float(v) for v in row],
            source_topic="driftloop.data.validated.v1",
            source_partition=0,
            source_offset=n,
        )


def lifecycle(stream: Stream, version: int, at: datetime) -> list[tuple[str, Event]]:
    """What the trainer and the registry publish for ``version``: the run with its reference,
    the registration, the promotion to champion (happening at ``at``)."""
    dataset, run = stream.dataset, f"run-{stream.dataset}-{version}"
    trained = TrainingCompleted.example().model_copy(
        update={
            "event_id": f"training.completed:{run}",
            "dataset": dataset,
            "run_id": run,
            "model_name": dataset,
            "status": "succeeded",
            "reference": stream.reference(),
        }
    )
    changes = {
        "dataset": dataset,
        "model_name": dataset,
        "version": version,
        "artifact_sha256": SHA,
        "occurred_at": at,
    }
    registered = ModelRegistered.example().model_copy(
        update={**changes, "event_id": f"model.registered:{dataset}:{version}", "run_id": run}
    )
    promoted = ModelPromoted.example().model_copy(
        update={
            **changes,
            "event_id": f"model.promoted:{dataset}:{version}",
            "alias": "champion",
            "previous_version": version - 1 or None,
        }
    )
    return [
        (TRAININGS_TOPIC, trained),
        (MODELS_REGISTERED_TOPIC, registered),
        (MODELS_PROMOTED_TOPIC, promoted),
    ]


async def publish_events(bootstrap: str, topic: str, events: list[Any]) -> None:
    """Publish ``events`` keyed as their producers key them (entity, else dataset)."""

    def key(event: Any) -> bytes:
        return str(getattr(event, "entity_id", None) or event.dataset).encode()

    await produce(bootstrap, topic, [(key(e), e.model_dump_json().encode(), []) for e in events])


async def publish_lifecycle(bootstrap: str, stream: Stream, version: int, at: datetime) -> None:
    for topic, event in lifecycle(stream, version, at):
        await publish_events(bootstrap, topic, [event])


async def publish_stream(
    bootstrap: str,
    vectors: list[FeaturesComputed],
    predictions: list[PredictionMade],
    outcomes: list[OutcomeValidated],
) -> None:
    await publish_events(bootstrap, FEATURES_TOPIC, vectors)
    await publish_events(bootstrap, PREDICTIONS_TOPIC, predictions)
    await publish_events(bootstrap, OUTCOMES_VALIDATED_TOPIC, outcomes)


async def apply_spec(bootstrap: str, event: SpecApplied) -> None:
    await publish_events(bootstrap, SPECS_TOPIC, [event])
