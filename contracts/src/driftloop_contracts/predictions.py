"""Predictions: what the scorer published for one feature vector, for downstream consumers."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, Field, StrictBool

from driftloop_contracts import _examples as ex
from driftloop_contracts.envelope import Event, event_type_field
from driftloop_contracts.types import (
    DatasetName,
    Identifier,
    Label,
    Offset,
    Partition,
    Probability,
    Sha256Hex,
    ShortText,
    TopicName,
    TraceId,
    Version,
)

__all__ = ["PredictionMade"]


class PredictionMade(Event):
    """A model's prediction for one data event.

    Topic ``driftloop.predictions.v1``, Kafka key = ``entity_id``. ``occurred_at`` is the data
    event's time and ``produced_at`` the moment the scorer predicted. Shadow models publish too,
    with ``shadow`` true: a downstream consumer acting on predictions should skip those.
    """

    event_type: Literal["prediction"] = event_type_field("prediction")
    subject_event_id: Identifier = Field(description="event_id of the data event predicted on.")
    dataset: DatasetName = Field(description="Dataset of the data event.")
    entity_id: Identifier = Field(description="Id of the entity; also the Kafka key.")
    model_name: Identifier = Field(description="Registered model name.")
    model_version: Version = Field(description="Registered model version that predicted.")
    prediction: Label = Field(
        description="The prediction: the predicted class, or the numeric estimate for regression."
    )
    scores: Annotated[dict[ShortText, Probability], Field(max_length=256)] | None = Field(
        default=None,
        description="Probability per class (keys are class labels as strings) for classifiers; "
        "null for regression.",
    )
    produced_at: AwareDatetime = Field(description="When the scorer made the prediction.")
    shadow: StrictBool = Field(
        default=False, description="True when a shadow model made it (not for acting on)."
    )
    features_hash: Sha256Hex = Field(
        description="SHA-256 of the feature vector predicted on, to match it to the served row."
    )
    spec_version: Version = Field(description="Version of the dataset spec the features follow.")
    trace_id: TraceId | None = Field(
        default=None,
        description="W3C trace id of the scoring span, to look the trace up. Informational: "
        "trace context itself travels in the Kafka headers.",
    )
    source_topic: TopicName | None = Field(
        default=None, description="Topic the feature vector was read from."
    )
    source_partition: Partition | None = Field(
        default=None, description="Partition the feature vector was read from."
    )
    source_offset: Offset | None = Field(default=None, description="Offset of the feature vector.")

    @classmethod
    def example(cls) -> Self:
        """Return the champion's prediction for the example payment."""
        return cls(
            event_id="prediction:payments-fraud:7:0b9f6c1e-6f1d-4f4e-9d6a-2a1c5e7b9d10",
            occurred_at=ex.EVENT_TIME,
            producer="scorer",
            causation_id=ex.FEATURES_EVENT_ID,
            subject_event_id=ex.DATA_EVENT_ID,
            dataset=ex.DATASET,
            entity_id=ex.ENTITY_ID,
            model_name=ex.MODEL_NAME,
            model_version=7,
            prediction=False,
            scores={"false": 0.93, "true": 0.07},
            produced_at=ex.later(milliseconds=48),
            features_hash="3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b",
            spec_version=3,
            trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
            source_topic="driftloop.features.v1",
            source_partition=1,
            source_offset=18150,
        )
