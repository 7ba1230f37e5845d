"""The event registry: every event type driftloop publishes, mapped to its model."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from driftloop_contracts.data import DataEvent, DataValidated, OutcomeEvent, OutcomeValidated
from driftloop_contracts.deadletter import DeadLettered
from driftloop_contracts.envelope import Event
from driftloop_contracts.features import FeaturesComputed
from driftloop_contracts.lifecycle import (
    ModelPromoted,
    ModelRegistered,
    ModelRetired,
    ModelRolledBack,
)
from driftloop_contracts.monitoring import DriftDetected, PerformanceReported
from driftloop_contracts.predictions import PredictionMade
from driftloop_contracts.specs import SpecApplied
from driftloop_contracts.training import TrainingCompleted, TrainRequested

__all__ = ["EVENTS", "UnknownEventTypeError", "event_model"]

_MODELS: tuple[type[Event], ...] = (
    DataEvent,
    OutcomeEvent,
    DataValidated,
    OutcomeValidated,
    FeaturesComputed,
    PredictionMade,
    DeadLettered,
    SpecApplied,
    TrainRequested,
    TrainingCompleted,
    ModelRegistered,
    ModelPromoted,
    ModelRolledBack,
    ModelRetired,
    DriftDetected,
    PerformanceReported,
)

EVENTS: Mapping[str, type[Event]] = MappingProxyType({m.type_name(): m for m in _MODELS})
"""Every event model by its ``event_type``, in pipeline order (read-only)."""


class UnknownEventTypeError(KeyError):
    """Raised by ``event_model`` for an event type no contract defines."""


def event_model(event_type: str) -> type[Event]:
    """Return the model class for an event type.

    Args:
        event_type: An ``event_type`` string, e.g. ``"prediction"``.

    Returns:
        The ``Event`` subclass that defines it.

    Raises:
        UnknownEventTypeError: If no contract defines ``event_type``.
    """
    try:
        return EVENTS[event_type]
    except KeyError:
        known = ", ".join(EVENTS)
        raise UnknownEventTypeError(f"unknown event type {event_type!r}; known: {known}") from None
