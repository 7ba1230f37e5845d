"""Data and outcome events: what upstream systems publish, and what ingestion validated.

Upstream systems publish ``DataEvent`` (one entity's fields at one moment) and, later,
``OutcomeEvent`` (the label for an earlier data event). Ingestion checks both against the
dataset spec and republishes them as ``DataValidated`` and ``OutcomeValidated``.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field

from driftloop_contracts import _examples as ex
from driftloop_contracts.envelope import Event, event_type_field
from driftloop_contracts.types import (
    DatasetName,
    FieldMap,
    Identifier,
    Label,
    Offset,
    Partition,
    TopicName,
    Version,
)

__all__ = ["UPSTREAM", "DataEvent", "DataValidated", "OutcomeEvent", "OutcomeValidated"]

UPSTREAM = "upstream"
"""Default ``producer`` of the events upstream systems publish."""

_FIELDS = {"amount": 42.5, "merchant": "m-311", "country": "DE", "is_online": True, "items": 3}


class DataEvent(Event):
    """One entity's fields at one moment, as published by an upstream system.

    Topic ``driftloop.data.v1``, Kafka key = ``entity_id``. An upstream system need only send
    ``event_id``, ``dataset``, ``entity_id``, ``occurred_at`` and ``fields`` (plus ``label`` when
    backfilling history); the other envelope fields have defaults.
    """

    event_type: Literal["data"] = event_type_field("data")
    producer: Identifier = Field(
        default=UPSTREAM, description="Name of the upstream system that published the event."
    )
    dataset: DatasetName = Field(description="Dataset the event belongs to; selects its spec.")
    entity_id: Identifier = Field(
        description="Id of the entity the event is about; also the Kafka key."
    )
    fields: FieldMap = Field(
        description="Raw field values by field name (at most 256): numbers, strings, booleans "
        "or null. The dataset spec says which fields are expected and their types."
    )
    label: Label | None = Field(
        default=None,
        description="The known label, only when backfilling history; absent on live events.",
    )

    @classmethod
    def example(cls) -> Self:
        """Return a live payment event for entity ``acct-1042``."""
        return cls(
            event_id=ex.DATA_EVENT_ID,
            dataset=ex.DATASET,
            entity_id=ex.ENTITY_ID,
            occurred_at=ex.EVENT_TIME,
            fields=_FIELDS,
        )


class OutcomeEvent(Event):
    """The outcome (label) of an earlier data event, as published by an upstream system.

    Topic ``driftloop.outcomes.v1``, Kafka key = the entity id of the subject data event.
    """

    event_type: Literal["outcome"] = event_type_field("outcome")
    producer: Identifier = Field(
        default=UPSTREAM, description="Name of the upstream system that published the outcome."
    )
    dataset: DatasetName = Field(description="Dataset of the subject data event.")
    subject_event_id: Identifier = Field(
        description="event_id of the data event this outcome labels."
    )
    label: Label = Field(description="The observed outcome: a class or a numeric target.")
    entity_id: Identifier | None = Field(
        default=None,
        description="Entity id of the subject data event; also the Kafka key. Send it when known.",
    )

    @classmethod
    def example(cls) -> Self:
        """Return the outcome of the example payment: it was not fraud."""
        return cls(
            event_id="5d2e8a47-3c1b-4a8f-b6e2-9f0d1c2b3a45",
            dataset=ex.DATASET,
            subject_event_id=ex.DATA_EVENT_ID,
            label=False,
            occurred_at=ex.later(days=3),
            entity_id=ex.ENTITY_ID,
        )


class DataValidated(Event):
    """A data event that passed validation against its dataset spec.

    Topic ``driftloop.data.validated.v1``, Kafka key = ``entity_id``; co-partitioned with the
    feature topic. ``occurred_at`` is the data event's own time.
    """

    event_type: Literal["data.validated"] = event_type_field("data.validated")
    dataset: DatasetName = Field(description="Dataset the data event belongs to.")
    entity_id: Identifier = Field(description="Id of the entity; also the Kafka key.")
    subject_event_id: Identifier = Field(description="event_id of the upstream data event.")
    fields: FieldMap = Field(description="The data event's field values, as validated.")
    label: Label | None = Field(
        default=None, description="The data event's backfill label, if it carried one."
    )
    spec_version: Version = Field(description="Version of the dataset spec it was checked against.")
    source_topic: TopicName = Field(description="Topic the data event was read from.")
    source_partition: Partition = Field(description="Partition the data event was read from.")
    source_offset: Offset = Field(description="Offset of the data event in that partition.")

    @classmethod
    def example(cls) -> Self:
        """Return the example payment after validation against spec version 3."""
        return cls(
            event_id=ex.VALIDATED_EVENT_ID,
            occurred_at=ex.EVENT_TIME,
            producer="ingestion",
            causation_id=ex.DATA_EVENT_ID,
            dataset=ex.DATASET,
            entity_id=ex.ENTITY_ID,
            subject_event_id=ex.DATA_EVENT_ID,
            fields=_FIELDS,
            spec_version=3,
            source_topic="driftloop.data.v1",
            source_partition=1,
            source_offset=18204,
        )


class OutcomeValidated(Event):
    """An outcome event that passed validation against its dataset spec.

    Topic ``driftloop.outcomes.validated.v1``, Kafka key = the subject's entity id.
    """

    event_type: Literal["outcome.validated"] = event_type_field("outcome.validated")
    dataset: DatasetName = Field(description="Dataset of the subject data event.")
    subject_event_id: Identifier = Field(
        description="event_id of the data event this outcome labels."
    )
    label: Label = Field(description="The observed outcome, as validated against the spec.")
    entity_id: Identifier | None = Field(
        default=None, description="Entity id of the subject data event, when the outcome had it."
    )
    spec_version: Version = Field(description="Version of the dataset spec it was checked against.")
    source_topic: TopicName = Field(description="Topic the outcome event was read from.")
    source_partition: Partition = Field(description="Partition the outcome event was read from.")
    source_offset: Offset = Field(description="Offset of the outcome event in that partition.")

    @classmethod
    def example(cls) -> Self:
        """Return the example outcome after validation."""
        outcome = OutcomeEvent.example()
        return cls(
            event_id=f"outcome.validated:{outcome.event_id}",
            occurred_at=outcome.occurred_at,
            producer="ingestion",
            causation_id=outcome.event_id,
            dataset=outcome.dataset,
            subject_event_id=outcome.subject_event_id,
            label=outcome.label,
            entity_id=outcome.entity_id,
            spec_version=3,
            source_topic="driftloop.outcomes.v1",
            source_partition=1,
            source_offset=977,
        )
