"""The topic registry: every Kafka topic, its event, key, partitions, producers and consumers.

Services take topic names from here, never from string literals; infrastructure creates topics
from ``TOPICS``; the AsyncAPI document and the README's topic table are generated from it. Each
topic carries exactly one event type at one major version, and its name ends with that version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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
from driftloop_contracts.registry import event_model
from driftloop_contracts.specs import SpecApplied
from driftloop_contracts.training import TrainingCompleted, TrainRequested

__all__ = [
    "DATA_TOPIC",
    "DATA_VALIDATED_TOPIC",
    "DEAD_LETTER_TOPIC",
    "DRIFT_TOPIC",
    "ENTITY_PARTITIONS",
    "FEATURES_TOPIC",
    "MODELS_PROMOTED_TOPIC",
    "MODELS_REGISTERED_TOPIC",
    "MODELS_RETIRED_TOPIC",
    "MODELS_ROLLED_BACK_TOPIC",
    "OUTCOMES_TOPIC",
    "OUTCOMES_VALIDATED_TOPIC",
    "PERFORMANCE_TOPIC",
    "PREDICTIONS_TOPIC",
    "SPECS_TOPIC",
    "TOPICS",
    "TRAININGS_TOPIC",
    "TRAIN_REQUESTS_TOPIC",
    "Service",
    "Topic",
    "topic_for",
]

Service = Literal[
    "ingestion",
    "feature",
    "scorer",
    "monitor",
    "trainer",
    "registry",
    "upstream",
    "downstream",
    "cli",
]
"""A party that publishes or consumes topics: the six services, outside systems and the CLI."""

ENTITY_PARTITIONS = 3
"""Default partitions of the entity-keyed topics; control topics keyed by dataset have 1."""

DATA_TOPIC = "driftloop.data.v1"
OUTCOMES_TOPIC = "driftloop.outcomes.v1"
DATA_VALIDATED_TOPIC = "driftloop.data.validated.v1"
OUTCOMES_VALIDATED_TOPIC = "driftloop.outcomes.validated.v1"
FEATURES_TOPIC = "driftloop.features.v1"
PREDICTIONS_TOPIC = "driftloop.predictions.v1"
DEAD_LETTER_TOPIC = "driftloop.deadletter.v1"
SPECS_TOPIC = "driftloop.specs.v1"
TRAIN_REQUESTS_TOPIC = "driftloop.train-requests.v1"
TRAININGS_TOPIC = "driftloop.trainings.v1"
MODELS_REGISTERED_TOPIC = "driftloop.models.registered.v1"
MODELS_PROMOTED_TOPIC = "driftloop.models.promoted.v1"
MODELS_ROLLED_BACK_TOPIC = "driftloop.models.rolled-back.v1"
MODELS_RETIRED_TOPIC = "driftloop.models.retired.v1"
DRIFT_TOPIC = "driftloop.drift.v1"
PERFORMANCE_TOPIC = "driftloop.performance.v1"


@dataclass(frozen=True, slots=True)
class Topic:
    """One Kafka topic and its contract.

    Attributes:
        name: The topic name, ending in the major version of its event.
        event: The one event model every record's value follows.
        key: What the record key holds, e.g. ``"entity_id"``.
        partitions: Default partition count; topics co-partitioned for joins share it.
        producers: Who publishes to it.
        consumers: Who consumes it.
        description: What the topic is for, in a sentence or two.
    """

    name: str
    event: type[Event]
    key: str
    partitions: int
    producers: tuple[Service, ...]
    consumers: tuple[Service, ...]
    description: str

    @property
    def event_type(self) -> str:
        """The ``event_type`` of the topic's event."""
        return self.event.type_name()


def _entity_keyed(
    name: str,
    event: type[Event],
    *,
    producers: tuple[Service, ...],
    consumers: tuple[Service, ...],
    description: str,
    key: str = "entity_id",
) -> Topic:
    return Topic(name, event, key, ENTITY_PARTITIONS, producers, consumers, description)


def _dataset_keyed(
    name: str,
    event: type[Event],
    *,
    producers: tuple[Service, ...],
    consumers: tuple[Service, ...],
    description: str,
) -> Topic:
    return Topic(name, event, "dataset", 1, producers, consumers, description)


_SERVICES: tuple[Service, ...] = (
    "ingestion",
    "feature",
    "scorer",
    "monitor",
    "trainer",
    "registry",
)

TOPICS: tuple[Topic, ...] = (
    _entity_keyed(
        DATA_TOPIC,
        DataEvent,
        producers=("upstream",),
        consumers=("ingestion",),
        description="Raw data events from upstream systems: one entity's fields at one moment.",
    ),
    _entity_keyed(
        OUTCOMES_TOPIC,
        OutcomeEvent,
        key="entity_id of the subject data event",
        producers=("upstream",),
        consumers=("ingestion",),
        description="Raw outcomes (labels) of earlier data events, from upstream systems.",
    ),
    _entity_keyed(
        DATA_VALIDATED_TOPIC,
        DataValidated,
        producers=("ingestion",),
        consumers=("feature", "scorer"),
        description="Data events that passed their dataset spec; co-partitioned with features.",
    ),
    _entity_keyed(
        OUTCOMES_VALIDATED_TOPIC,
        OutcomeValidated,
        key="entity_id of the subject data event",
        producers=("ingestion",),
        consumers=("monitor",),
        description="Outcomes that passed their dataset spec, for the monitor's label join.",
    ),
    _entity_keyed(
        FEATURES_TOPIC,
        FeaturesComputed,
        producers=("feature",),
        consumers=("scorer", "monitor"),
        description="Feature vectors as served; co-partitioned with validated data.",
    ),
    _entity_keyed(
        PREDICTIONS_TOPIC,
        PredictionMade,
        producers=("scorer",),
        consumers=("monitor", "downstream"),
        description="Predictions of the champion (and of shadows, flagged) for downstream use.",
    ),
    _entity_keyed(
        DEAD_LETTER_TOPIC,
        DeadLettered,
        key="the rejected record's key",
        producers=_SERVICES,
        consumers=("upstream",),
        description="Records a consumer could not process, with the reason and original bytes.",
    ),
    _dataset_keyed(
        SPECS_TOPIC,
        SpecApplied,
        producers=("registry",),
        consumers=("ingestion", "feature", "scorer", "monitor", "trainer"),
        description="Dataset spec versions applied by the registry, broadcast to the services.",
    ),
    _dataset_keyed(
        TRAIN_REQUESTS_TOPIC,
        TrainRequested,
        producers=("cli", "registry"),
        consumers=("trainer",),
        description="Commands to train a candidate model for a dataset.",
    ),
    _dataset_keyed(
        TRAININGS_TOPIC,
        TrainingCompleted,
        producers=("trainer",),
        consumers=("registry",),
        description="Results of training runs: artifact, metrics, data window, reference stats.",
    ),
    _dataset_keyed(
        MODELS_REGISTERED_TOPIC,
        ModelRegistered,
        producers=("registry",),
        consumers=("scorer",),
        description="Model versions registered from training runs.",
    ),
    _dataset_keyed(
        MODELS_PROMOTED_TOPIC,
        ModelPromoted,
        producers=("registry",),
        consumers=("scorer", "monitor"),
        description="Model versions given the champion or shadow alias; the scorer hot-swaps.",
    ),
    _dataset_keyed(
        MODELS_ROLLED_BACK_TOPIC,
        ModelRolledBack,
        producers=("registry",),
        consumers=("scorer", "monitor"),
        description="Aliases moved back to an earlier model version.",
    ),
    _dataset_keyed(
        MODELS_RETIRED_TOPIC,
        ModelRetired,
        producers=("registry",),
        consumers=("scorer", "monitor"),
        description="Model versions taken out of shadow serving, with nothing in their place.",
    ),
    _dataset_keyed(
        DRIFT_TOPIC,
        DriftDetected,
        producers=("monitor",),
        consumers=("trainer",),
        description="Drift alarms: a detector fired on a feature, the predictions or performance.",
    ),
    _dataset_keyed(
        PERFORMANCE_TOPIC,
        PerformanceReported,
        producers=("monitor",),
        consumers=("registry",),
        description="Windowed performance of the champion and any shadow, for promotion.",
    ),
)
"""Every driftloop topic, in pipeline order."""


def topic_for(event: type[Event] | str) -> Topic:
    """Return the topic that carries an event type.

    Args:
        event: An ``Event`` subclass, or its ``event_type`` string.

    Returns:
        The one topic whose records follow that event's contract.

    Raises:
        UnknownEventTypeError: If ``event`` names no known event type.
        LookupError: If the event type is known but no topic carries it.
    """
    model = event_model(event) if isinstance(event, str) else event
    for topic in TOPICS:
        if topic.event is model:
            return topic
    raise LookupError(f"no topic carries {model.__name__}")
