"""Feature vectors: what the feature service computed for one data event, as it was served."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from driftloop_contracts import _examples as ex
from driftloop_contracts.envelope import Event, event_type_field
from driftloop_contracts.types import (
    DatasetName,
    FiniteFloat,
    Identifier,
    Label,
    Name,
    Offset,
    Partition,
    TopicName,
    Version,
)

__all__ = ["MAX_FEATURES", "FeaturesComputed"]

MAX_FEATURES = 1024
"""Most features one vector may hold."""


class FeaturesComputed(Event):
    """The feature vector computed for one validated data event.

    Topic ``driftloop.features.v1``, Kafka key = ``entity_id``; co-partitioned with the validated
    data topic so per-entity windows stay on one partition. ``occurred_at`` is the data event's
    time. ``feature_names`` and ``values`` are parallel lists in the spec's stable order.
    """

    event_type: Literal["features.computed"] = event_type_field("features.computed")
    dataset: DatasetName = Field(description="Dataset the data event belongs to.")
    entity_id: Identifier = Field(description="Id of the entity; also the Kafka key.")
    subject_event_id: Identifier = Field(description="event_id of the upstream data event.")
    spec_version: Version = Field(description="Version of the dataset spec the features follow.")
    feature_names: Annotated[list[Name], Field(min_length=1, max_length=MAX_FEATURES)] = Field(
        description="Feature names, unique, in the spec's stable order."
    )
    values: Annotated[list[FiniteFloat], Field(min_length=1, max_length=MAX_FEATURES)] = Field(
        description="Feature values, finite, parallel to feature_names (same length and order)."
    )
    label: Label | None = Field(
        default=None, description="The data event's inline (backfill) label, if it carried one."
    )
    source_topic: TopicName = Field(description="Topic the validated data event was read from.")
    source_partition: Partition = Field(description="Partition it was read from.")
    source_offset: Offset = Field(description="Offset of the validated data event.")

    @model_validator(mode="after")
    def _names_match_values(self) -> Self:
        if len(self.values) != len(self.feature_names):
            raise ValueError(
                f"values has {len(self.values)} items but feature_names has "
                f"{len(self.feature_names)}: they must be parallel lists"
            )
        if len(set(self.feature_names)) != len(self.feature_names):
            raise ValueError("feature_names must be unique")
        return self

    def as_dict(self) -> dict[str, float]:
        """Return the vector as a mapping of feature name to value, in feature order."""
        return dict(zip(self.feature_names, self.values, strict=True))

    @classmethod
    def example(cls) -> Self:
        """Return the features of the example payment."""
        return cls(
            event_id=ex.FEATURES_EVENT_ID,
            occurred_at=ex.EVENT_TIME,
            producer="feature",
            causation_id=ex.VALIDATED_EVENT_ID,
            dataset=ex.DATASET,
            entity_id=ex.ENTITY_ID,
            subject_event_id=ex.DATA_EVENT_ID,
            spec_version=3,
            feature_names=["amount", "is_online", "amount_mean_1h", "count_1h"],
            values=[42.5, 1.0, 37.8, 4.0],
            source_topic="driftloop.data.validated.v1",
            source_partition=1,
            source_offset=18150,
        )
