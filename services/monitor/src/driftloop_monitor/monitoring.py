"""The monitor's facade: one ``DatasetMonitor`` per dataset, fed batches of consumed events.

Pure domain: no I/O, no asyncio. The service reads the topics, hands each batch to the
dataset's monitor, publishes what ``drain()`` returns and checkpoints ``to_checkpoint()``.
The clock is event time (``occurred_at``), so a replay of the same events yields the same
alarms and reports, with the same event ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from driftloop_contracts import (
    DriftDetected,
    FeaturesComputed,
    NumericReference,
    OutcomeValidated,
    PerformanceReported,
    PredictionMade,
)
from driftloop_spec import DatasetSpec

__all__ = ["DatasetMonitor", "MonitorPolicy", "Seen", "ServingModel"]

E = TypeVar("E")


@dataclass(frozen=True, slots=True)
class Seen(Generic[E]):
    """A consumed event and where it was read (partition and offset of its topic)."""

    event: E
    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class ServingModel:
    """A model version being served, with its training reference ({} when unknown)."""

    version: int
    reference: Mapping[str, NumericReference]


@dataclass(frozen=True, slots=True)
class MonitorPolicy:
    """The monitor's own bounds (service settings), not in the spec."""

    live_window: int = 2000
    """Most recent values per watched signal tested against the reference."""
    test_every: int = 250
    """New values between two tests of a data/prediction detector."""
    rolling_window: int = 1000
    """Labelled champion predictions behind the rolling metrics."""
    report_every_s: int = 3600
    """Event time between two performance reports."""
    join_ttl_s: int = 7 * 86400
    """Event time a prediction waits for its label (and an early label for its prediction)."""
    max_pending: int = 100_000
    """Predictions and early labels held for the join, at most."""
    max_fpr: float = 0.01
    """False-positive rate ``recall_at_fpr`` is read at."""
    producer: str = "monitor"
    """``producer`` of the events the monitor publishes."""


class DatasetMonitor:
    """Drift and performance of one dataset's champion (and shadow), from its live traffic."""

    def __init__(self, spec: DatasetSpec, policy: MonitorPolicy) -> None:
        raise NotImplementedError

    @property
    def spec(self) -> DatasetSpec:
        """The dataset spec the detectors follow."""
        raise NotImplementedError

    def apply_spec(self, spec: DatasetSpec) -> None:
        """Follow a new spec version: rebuild the detectors (join buffer and counters kept)."""
        raise NotImplementedError

    def serve(self, champion: ServingModel | None, shadow: ServingModel | None) -> None:
        """Say which versions serve; a new champion resets its windows, detectors, cooldowns,
        pending alarms and rolling metrics; a new shadow resets the shadow comparison."""
        raise NotImplementedError

    def observe_vectors(self, vectors: Sequence[Seen[FeaturesComputed]]) -> None:
        """Feed a batch of feature vectors to the data drift detectors."""
        raise NotImplementedError

    def observe_predictions(self, predictions: Sequence[Seen[PredictionMade]]) -> None:
        """Feed a batch of predictions: prediction drift, and the join's waiting side."""
        raise NotImplementedError

    def observe_outcomes(self, outcomes: Sequence[Seen[OutcomeValidated]]) -> None:
        """Feed a batch of validated outcomes: joined to predictions, errors to the detectors."""
        raise NotImplementedError

    def drain(self) -> list[DriftDetected | PerformanceReported]:
        """Return (and forget) the events ready to publish, with deterministic event ids."""
        raise NotImplementedError

    def counters(self) -> dict[str, int]:
        """Return the counters: joined, late_labels, orphan_labels, unlabelled_predictions,
        alarms, reports, ..."""
        raise NotImplementedError

    def status(self) -> dict[str, Any]:
        """Return a JSON-able view: champion/shadow, per detector last statistic, samples,
        cooldown-until, pending alarm."""
        raise NotImplementedError

    def to_checkpoint(self) -> dict[str, Any]:
        """Return the whole state as a BSON-able document, bounded in size."""
        raise NotImplementedError

    @classmethod
    def from_checkpoint(
        cls, spec: DatasetSpec, policy: MonitorPolicy, document: Mapping[str, Any]
    ) -> DatasetMonitor:
        """Rebuild a monitor from ``to_checkpoint()``'s document."""
        raise NotImplementedError
