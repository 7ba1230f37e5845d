"""Triggers: why a dataset should be trained, from whichever event or rule asked for it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from opentelemetry import propagate
from opentelemetry.context import Context

from driftloop_contracts import DriftDetected, TrainRequested
from driftloop_runtime import Incoming
from driftloop_runtime.mongo import Document

__all__ = ["AUTOMATIC", "Reason", "Trigger", "from_drift", "from_request"]

Reason = Literal["manual", "schedule", "drift", "bootstrap"]

AUTOMATIC: frozenset[str] = frozenset({"schedule", "drift", "bootstrap"})
"""The reasons the spec's cooldown applies to: every one but an operator's request."""

_TRACE_HEADERS = ("traceparent", "tracestate")


@dataclass(frozen=True, slots=True)
class Trigger:
    """One reason to train a dataset, kept until a run serves it.

    ``event_id`` is the idempotency key: the consumed event's id, or a deterministic id for the
    trainer's own schedule and bootstrap triggers, so replicas that see the same reason record
    it once. ``trace`` holds the W3C headers of the event, so the run continues its trace.
    """

    event_id: str
    dataset: str
    reason: Reason
    requested_by: str
    occurred_at: datetime
    window_start: datetime | None = None
    detail: str | None = None
    trace: Mapping[str, str] = field(default_factory=dict)
    received_at: datetime | None = None
    """When the trainer recorded it (wall clock); ``None`` until it is recorded."""

    @property
    def automatic(self) -> bool:
        """Whether the spec's cooldown applies to it."""
        return self.reason in AUTOMATIC

    def trace_context(self) -> Context:
        """The trace context of the event behind the trigger (empty when there was none)."""
        return propagate.extract(dict(self.trace))

    def document(self, received_at: datetime) -> Document:
        """The trigger as a pending ``trainer_triggers`` document."""
        return {
            "_id": self.event_id,
            "dataset": self.dataset,
            "reason": self.reason,
            "requested_by": self.requested_by,
            "occurred_at": self.occurred_at,
            "window_start": self.window_start,
            "detail": self.detail,
            "trace": dict(self.trace),
            "received_at": received_at,
            "status": "pending",
            "run_id": None,
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Trigger:
        """Read a trigger back from its document."""
        return cls(
            event_id=document["_id"],
            dataset=document["dataset"],
            reason=document["reason"],
            requested_by=document["requested_by"],
            occurred_at=document["occurred_at"],
            window_start=document.get("window_start"),
            detail=document.get("detail"),
            trace=document.get("trace") or {},
            received_at=document.get("received_at"),
        )


def from_request(item: Incoming[TrainRequested]) -> Trigger:
    """The trigger of a ``train requested`` command."""
    event = item.event
    return Trigger(
        event_id=event.event_id,
        dataset=event.dataset,
        reason=event.reason,
        requested_by=event.requested_by,
        occurred_at=event.occurred_at,
        window_start=event.window_start,
        trace=_trace_headers(item),
    )


def from_drift(item: Incoming[DriftDetected]) -> Trigger:
    """The trigger of a ``drift detected`` alarm: training starts at its change point, if the
    detector located one."""
    event = item.event
    return Trigger(
        event_id=event.event_id,
        dataset=event.dataset,
        reason="drift",
        requested_by=event.producer,
        occurred_at=event.occurred_at,
        window_start=event.change_point.event_time if event.change_point else None,
        detail=f"{event.kind} drift on {event.signal}: {event.detector} "
        f"{event.statistic:.4g} (threshold {event.threshold:.4g}) "
        f"against version {event.model_version}",
        trace=_trace_headers(item),
    )


def _trace_headers(item: Incoming[Any]) -> dict[str, str]:
    return {
        name: value.decode("latin-1")
        for name, value in item.source.headers
        if name in _TRACE_HEADERS
    }
