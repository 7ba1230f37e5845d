"""driftloop's event contracts: versioned pydantic v2 models, the event and topic registries.

Every message on a driftloop topic is an ``Event`` subclass with an explicit major version; each
topic carries exactly one event type (see ``TOPICS`` and ``topic_for``). The JSON Schemas under
``contracts/schemas/`` and ``contracts/asyncapi.yaml`` are generated from these models.
"""

from __future__ import annotations

from driftloop_contracts.data import DataEvent, DataValidated, OutcomeEvent, OutcomeValidated
from driftloop_contracts.deadletter import DeadLettered
from driftloop_contracts.envelope import ContractModel, Event
from driftloop_contracts.features import FeaturesComputed
from driftloop_contracts.lifecycle import (
    Alias,
    ModelPromoted,
    ModelRegistered,
    ModelRetired,
    ModelRolledBack,
)
from driftloop_contracts.monitoring import (
    ChangePoint,
    DriftDetected,
    PerformanceReported,
    ShadowComparison,
    TimeWindow,
)
from driftloop_contracts.predictions import PredictionMade
from driftloop_contracts.reference import (
    CategoricalReference,
    FeatureReference,
    NumericReference,
)
from driftloop_contracts.registry import EVENTS, UnknownEventTypeError, event_model
from driftloop_contracts.specs import SpecApplied, spec_digest
from driftloop_contracts.topics import (
    DATA_TOPIC,
    DATA_VALIDATED_TOPIC,
    DEAD_LETTER_TOPIC,
    DRIFT_TOPIC,
    FEATURES_TOPIC,
    MODELS_PROMOTED_TOPIC,
    MODELS_REGISTERED_TOPIC,
    MODELS_RETIRED_TOPIC,
    MODELS_ROLLED_BACK_TOPIC,
    OUTCOMES_TOPIC,
    OUTCOMES_VALIDATED_TOPIC,
    PERFORMANCE_TOPIC,
    PREDICTIONS_TOPIC,
    SPECS_TOPIC,
    TOPICS,
    TRAIN_REQUESTS_TOPIC,
    TRAININGS_TOPIC,
    Service,
    Topic,
    topic_for,
)
from driftloop_contracts.training import ArtifactRef, DataWindow, TrainingCompleted, TrainRequested

__all__ = [
    "DATA_TOPIC",
    "DATA_VALIDATED_TOPIC",
    "DEAD_LETTER_TOPIC",
    "DRIFT_TOPIC",
    "EVENTS",
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
    "Alias",
    "ArtifactRef",
    "CategoricalReference",
    "ChangePoint",
    "ContractModel",
    "DataEvent",
    "DataValidated",
    "DataWindow",
    "DeadLettered",
    "DriftDetected",
    "Event",
    "FeatureReference",
    "FeaturesComputed",
    "ModelPromoted",
    "ModelRegistered",
    "ModelRetired",
    "ModelRolledBack",
    "NumericReference",
    "OutcomeEvent",
    "OutcomeValidated",
    "PerformanceReported",
    "PredictionMade",
    "Service",
    "ShadowComparison",
    "SpecApplied",
    "TimeWindow",
    "Topic",
    "TrainRequested",
    "TrainingCompleted",
    "UnknownEventTypeError",
    "event_model",
    "spec_digest",
    "topic_for",
]
