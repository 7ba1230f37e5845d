"""Scoring a batch of feature vectors: grouped by dataset, one vectorised prediction per model
and group, a ``PredictionMade`` per vector and model (champion, and shadow when one serves).

The batch takes the serving table once, at its start: a swap changes what the next batch
takes, never the models of a batch in hand.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from opentelemetry import trace
from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

from driftloop_contracts import PREDICTIONS_TOPIC, Event, FeaturesComputed, PredictionMade
from driftloop_modeling import BatchPrediction, ClassLabel, feature_hashes, predict
from driftloop_runtime import BatchResult, Incoming, Outgoing, Rejection, construct
from driftloop_scorer.serving import ServedModel, Serving

__all__ = ["PRODUCER", "Scorer", "by_dataset", "prediction_id", "scoring_trace_id"]

PRODUCER = "scorer"
MAX_ID = 128  # driftloop_contracts.types.ID_PATTERN

logger = logging.getLogger(__name__)
tracer = trace.get_tracer("driftloop.scorer")

Vectors = Sequence[Incoming[FeaturesComputed]]
Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def prediction_id(model_name: str, version: int, subject_event_id: str, shadow: bool) -> str:
    """The prediction's event id: the same every time one model version scores one data event
    (as champion or as shadow), so a replay after a crash yields the same ids."""
    kind = "prediction.shadow" if shadow else "prediction"
    candidate = f"{kind}:{model_name}:{version}:{subject_event_id}"
    if len(candidate) <= MAX_ID:
        return candidate
    digest = hashlib.sha256(f"{model_name}\x00{version}\x00{subject_event_id}".encode())
    return f"{kind}:{digest.hexdigest()}"


def scoring_trace_id() -> str | None:
    """The trace id of the current span (the batch's scoring span): the trace whose publish span
    lists the predictions, and whose process span links to the vectors' producers."""
    context = trace.get_current_span().get_span_context()
    return trace.format_trace_id(context.trace_id) if context.is_valid else None


def by_dataset(batch: Vectors) -> dict[str, list[Incoming[FeaturesComputed]]]:
    """The batch's vectors per dataset, each group in batch order."""
    groups: dict[str, list[Incoming[FeaturesComputed]]] = {}
    for item in batch:
        groups.setdefault(item.event.dataset, []).append(item)
    return groups


class Scorer:
    """The batch handler of the feature vectors, and the counts ``GET /v1/stats`` shows."""

    def __init__(
        self,
        serving: Callable[[], Mapping[str, Serving]],
        *,
        warmup_rows: int,
        no_model_log_s: float,
        model_threads: int = 1,
        clock: Clock = _now,
    ) -> None:
        """Score with the models ``serving()`` gives at each batch's start, each with at most
        ``model_threads`` threads; keep the last ``warmup_rows`` vectors of each dataset for
        warming up the next model."""
        self._serving = serving
        self._model_threads = model_threads
        self._threads: tuple[object, Any] = (None, None)  # (serving, its pools' controller)
        self._warmup_rows = warmup_rows
        self._clock = clock
        self._log_every = no_model_log_s
        self._logged_at = time.monotonic()
        self._recent: dict[str, tuple[list[str], NDArray[np.float64]]] = {}
        self.scored: Counter[tuple[str, int]] = Counter()
        self.shadow_scored: Counter[tuple[str, int]] = Counter()
        self.unscored: Counter[tuple[str, str]] = Counter()
        self.shadow_failures: Counter[str] = Counter()

    def score(self, batch: Vectors) -> BatchResult:
        """Predictions of the batch (dead letters for vectors the champion failed on)."""
        serving, produced_at = self._serving(), self._clock()
        result = BatchResult()
        span = tracer.start_as_current_span("score", attributes={"driftloop.events": len(batch)})
        with span, self._limited(serving):
            for dataset, items in by_dataset(batch).items():
                result += self._score_dataset(dataset, items, serving.get(dataset), produced_at)
        self._report_unscored()
        return result

    def _limited(self, serving: Mapping[str, Serving]) -> Any:
        """Cap the thread pools (OpenMP, BLAS) the models use: on a busy machine a gradient
        boosting model predicted 500 rows 20 to 80 times slower with its default OpenMP threads
        than with one. The pools are found again after a swap, which may have loaded a library
        (finding them takes ~3 ms; limiting, ~10 µs)."""
        if self._threads[0] is not serving:
            self._threads = (serving, ThreadpoolController())
        return self._threads[1].limit(limits=self._model_threads)

    def recent(self, dataset: str, columns: list[str]) -> NDArray[np.float64] | None:
        """The dataset's latest vectors if they have ``columns`` (a warm-up sample)."""
        held = self._recent.get(dataset)
        return held[1] if held is not None and held[0] == columns else None

    def _score_dataset(
        self, dataset: str, items: Vectors, serving: Serving | None, produced_at: datetime
    ) -> BatchResult:
        champion = serving.champion if serving is not None else None
        if champion is None:
            self.unscored[(dataset, "no_champion")] += len(items)
            return BatchResult()
        names = champion.feature_names
        matching = [item for item in items if item.event.feature_names == names]
        if len(matching) < len(items):
            self.unscored[(dataset, "feature_mismatch")] += len(items) - len(matching)
        if not matching:
            return BatchResult()
        matrix = np.array([item.event.values for item in matching], dtype=np.float64)
        self._recent[dataset] = (names, matrix[-self._warmup_rows :])
        hashes = feature_hashes(names, matrix)
        group = _Group(names, matching, matrix, hashes, scoring_trace_id(), produced_at)
        result = self._champion(champion, group)
        if serving is not None and serving.shadow is not None:
            result += self._shadow(serving.shadow, group)
        return result

    def _champion(self, served: ServedModel, group: _Group) -> BatchResult:
        dataset, version = served.version.dataset, served.version.version
        try:
            outputs, failed = group.predictions(served, shadow=False)
        except Exception as error:  # a model that fails must not stop the stream
            logger.exception("champion %s of %s failed on a batch", version, dataset)
            reason = f"champion version {version} failed: {error!r}"
            return BatchResult(rejections=[_rejection(item, reason) for item in group.items])
        self.scored[(dataset, version)] += len(outputs)
        reason = f"champion version {version} predicted a value that is not finite"
        return BatchResult(outputs=outputs, rejections=[_rejection(i, reason) for i in failed])

    def _shadow(self, served: ServedModel, group: _Group) -> BatchResult:
        """The shadow's predictions; its failures are counted, never the champion's concern."""
        dataset, version = served.version.dataset, served.version.version
        try:
            outputs, failed = group.predictions(served, shadow=True)
        except Exception:
            logger.exception("shadow %s of %s failed on a batch", version, dataset)
            outputs, failed = [], list(group.items)
        self.shadow_scored[(dataset, version)] += len(outputs)
        self.shadow_failures[dataset] += len(failed)
        return BatchResult(outputs=outputs)

    def _report_unscored(self) -> None:
        now = time.monotonic()
        if self.unscored and now - self._logged_at >= self._log_every:
            self._logged_at = now
            counts = {f"{d}/{why}": n for (d, why), n in sorted(self.unscored.items())}
            logger.warning("vectors left unscored since start (acknowledged): %s", counts)


@dataclass(frozen=True, slots=True)
class _Group:
    """A dataset's vectors of one batch, as a matrix, with their hashes and the scoring trace
    (read once, for the champion's predictions and the shadow's)."""

    names: list[str]
    items: Vectors
    matrix: NDArray[np.float64]
    hashes: list[str]
    trace_id: str | None
    produced_at: datetime

    def predictions(
        self, served: ServedModel, *, shadow: bool
    ) -> tuple[list[Outgoing], list[Incoming[FeaturesComputed]]]:
        """A prediction per vector, and the vectors whose prediction was not finite."""
        if served.feature_names != self.names:  # a shadow checked against other columns
            raise ValueError(f"version {served.version.version} takes other feature columns")
        result = predict(served.model, self.matrix, served.feature_names, classes=served.classes)
        scores, finite = result.score_maps(), _finite(result)
        rows = zip(self.items, result.predicted, scores, self.hashes, finite, strict=True)
        outputs: list[Outgoing] = []
        failed: list[Incoming[FeaturesComputed]] = []
        for item, predicted, score, digest, ok in rows:
            if not ok:
                failed.append(item)
                continue
            event = _prediction(
                served, item, predicted, score, digest, self.trace_id, self.produced_at, shadow
            )
            outputs.append(Outgoing(PREDICTIONS_TOPIC, item.event.entity_id, event, item.source))
        if outputs:
            _conforms(outputs[0].event)
        return outputs, failed


def _finite(result: BatchPrediction) -> list[bool]:
    numbers = result.scores if result.scores is not None else result.estimates
    if numbers is None:
        return [True] * len(result.predicted)
    finite = np.isfinite(numbers).reshape(len(numbers), -1)
    flags: list[bool] = np.all(finite, axis=1).tolist()
    return flags


def _conforms(prediction: Event) -> None:
    """Validate one prediction of a group as it will be published, raising as building it
    validated would: what could break the contract comes from the model's classes (a class key
    it refuses, too many classes), the same in every row of the group; the rest is checked
    finite, clipped into range, or read from validated events and well-formed headers."""
    PredictionMade.model_validate_json(prediction.model_dump_json())


def _prediction(
    served: ServedModel,
    item: Incoming[FeaturesComputed],
    predicted: ClassLabel | float,
    scores: dict[str, float] | None,
    features_hash: str,
    trace_id: str | None,
    produced_at: datetime,
    shadow: bool,
) -> PredictionMade:
    vector, source, version = item.event, item.source, served.version
    subject = vector.subject_event_id
    # Not validated again, see _conforms.
    return construct(
        PredictionMade,
        event_id=prediction_id(version.model_name, version.version, subject, shadow),
        occurred_at=vector.occurred_at,
        producer=PRODUCER,
        causation_id=vector.event_id,
        subject_event_id=subject,
        dataset=vector.dataset,
        entity_id=vector.entity_id,
        model_name=version.model_name,
        model_version=version.version,
        prediction=predicted,
        scores=scores,
        produced_at=produced_at,
        shadow=shadow,
        features_hash=features_hash,
        spec_version=vector.spec_version,
        trace_id=trace_id,
        source_topic=source.topic,
        source_partition=source.partition,
        source_offset=source.offset,
    )


def _rejection(item: Incoming[FeaturesComputed], reason: str) -> Rejection:
    return Rejection(item.source, reason, error_type="prediction", event_id=item.event.event_id)
