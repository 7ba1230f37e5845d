"""Monitoring: drift alarms and performance reports from the monitor service."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import AwareDatetime, Field, model_validator

from driftloop_contracts import _examples as ex
from driftloop_contracts.envelope import ContractModel, Event, event_type_field
from driftloop_contracts.types import (
    Count,
    DatasetName,
    FiniteFloat,
    MetricMap,
    Name,
    Offset,
    Partition,
    Probability,
    Version,
)

__all__ = ["ChangePoint", "DriftDetected", "PerformanceReported", "ShadowComparison", "TimeWindow"]


class TimeWindow(ContractModel):
    """A window of events, by event time."""

    start: AwareDatetime = Field(description="Event time the window starts at (inclusive).")
    end: AwareDatetime = Field(description="Event time the window ends at (inclusive).")
    size: Count = Field(description="Number of events in the window.")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.start > self.end:
            raise ValueError("window start must not be after its end")
        return self

    @classmethod
    def example(cls) -> Self:
        """Return a one-hour window of 2400 events."""
        return cls(start=ex.later(days=9), end=ex.later(days=9, hours=1), size=2400)


class ChangePoint(ContractModel):
    """Where a detector placed the change, as precisely as it can tell."""

    event_time: AwareDatetime = Field(description="Event time of the first changed event.")
    partition: Partition | None = Field(
        default=None, description="Partition of that event on the monitor's input topic."
    )
    offset: Offset | None = Field(default=None, description="Offset of that event.")

    @classmethod
    def example(cls) -> Self:
        """Return a change point at offset 20111 of partition 1."""
        return cls(event_time=ex.later(days=9, minutes=37), partition=1, offset=20111)


class DriftDetected(Event):
    """A drift detector fired on a signal of a dataset's live traffic.

    Topic ``driftloop.drift.v1``, Kafka key = ``dataset``. The trainer answers with a training run.
    """

    event_type: Literal["drift.detected"] = event_type_field("drift.detected")
    dataset: DatasetName = Field(description="Dataset drifting; also the Kafka key.")
    model_version: Version = Field(description="Champion version whose reference was compared.")
    kind: Literal["data", "prediction", "performance"] = Field(
        description="What drifted: input features, predictions, or measured performance."
    )
    signal: Name = Field(description="Feature or signal name the detector watched.")
    detector: Name = Field(description="Detector that fired, e.g. 'psi', 'ks', 'adwin'.")
    statistic: FiniteFloat = Field(description="The detector's statistic when it fired.")
    threshold: FiniteFloat = Field(description="Threshold the statistic crossed.")
    window: TimeWindow = Field(description="Live window the statistic was computed on.")
    change_point: ChangePoint | None = Field(
        default=None, description="Where the change began, for detectors that locate it."
    )
    evidence: MetricMap = Field(
        default_factory=dict, description="Further numbers behind the alarm, by name."
    )

    @classmethod
    def example(cls) -> Self:
        """Return a PSI alarm on the ``amount`` feature."""
        return cls(
            event_id=ex.DRIFT_EVENT_ID,
            occurred_at=ex.later(days=9, hours=1),
            producer="monitor",
            dataset=ex.DATASET,
            model_version=7,
            kind="data",
            signal="amount",
            detector="psi",
            statistic=0.31,
            threshold=0.2,
            window=TimeWindow.example(),
            change_point=ChangePoint.example(),
            evidence={"reference_mean": 48.2, "live_mean": 96.7},
        )


class ShadowComparison(ContractModel):
    """How a shadow model did on the same events and labels as the champion."""

    model_version: Version = Field(description="Shadow model version.")
    metrics: MetricMap = Field(description="Shadow's metrics on the window, by name.")
    agreement: Probability | None = Field(
        default=None, description="Fraction of events where shadow and champion agreed."
    )

    @classmethod
    def example(cls) -> Self:
        """Return shadow version 8 doing slightly better than the champion."""
        return cls(model_version=8, metrics={"roc_auc": 0.905, "log_loss": 0.19}, agreement=0.96)


class PerformanceReported(Event):
    """The champion's measured performance over a window of labelled predictions.

    Topic ``driftloop.performance.v1``, Kafka key = ``dataset``.
    """

    event_type: Literal["performance.reported"] = event_type_field("performance.reported")
    dataset: DatasetName = Field(description="Dataset reported on; also the Kafka key.")
    model_version: Version = Field(description="Champion version the metrics are for.")
    window: TimeWindow = Field(description="Window of predictions, by event time.")
    metrics: MetricMap = Field(description="Metrics on the labelled predictions, by name.")
    label_coverage: Probability = Field(
        description="Fraction of the window's predictions that had a label joined."
    )
    shadow: ShadowComparison | None = Field(
        default=None, description="The shadow model's results, when one is serving."
    )

    @classmethod
    def example(cls) -> Self:
        """Return an hourly report with a shadow comparison."""
        return cls(
            event_id="performance.reported:payments:7:1737450000",
            occurred_at=ex.later(days=9, hours=1),
            producer="monitor",
            dataset=ex.DATASET,
            model_version=7,
            window=TimeWindow.example(),
            metrics={"roc_auc": 0.871, "log_loss": 0.224},
            label_coverage=0.62,
            shadow=ShadowComparison.example(),
        )
