"""The base classes every contract builds on: ``ContractModel`` and the ``Event`` envelope.

Every message on a driftloop topic is an ``Event``: a unique id (the idempotency key), its type
and major version, when it happened, who produced it and which upstream event caused it. Trace
context is not part of the envelope: it travels in Kafka headers (W3C ``traceparent``).
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from driftloop_contracts.types import MAX_TEXT, Identifier, SchemaVersion

__all__ = ["ContractModel", "Event", "event_type_field"]


class ContractModel(BaseModel):
    """Base of every contract model: immutable, closed to unknown keys, finite and bounded.

    Unknown keys are rejected, floats must be finite, every string is capped at ``MAX_TEXT``
    characters, and bytes travel in JSON as base64.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        allow_inf_nan=False,
        str_max_length=MAX_TEXT,
        ser_json_bytes="base64",
        val_json_bytes="base64",
        protected_namespaces=(),
    )

    @classmethod
    def example(cls) -> Self:
        """Return a valid, deterministic instance, used in docs, schemas and tests.

        Raises:
            NotImplementedError: On a class that does not define its own example.
        """
        raise NotImplementedError(f"{cls.__name__} defines no example()")


def event_type_field(event_type: str) -> Any:
    """Declare an event class's ``event_type`` field: a literal with itself as default.

    Args:
        event_type: The event type string, e.g. ``"data"``.

    Returns:
        A pydantic ``FieldInfo`` to assign to ``event_type: Literal[...]``.
    """
    return Field(
        default=event_type,
        description=f"Type of this event; always {event_type!r} for this contract.",
    )


class Event(ContractModel):
    """The envelope every event carries, whatever its type.

    Subclasses narrow ``event_type`` to a literal (declared with ``event_type_field``) and pin
    ``schema_version`` to their major version.
    """

    event_id: Identifier = Field(
        description="Unique id of this event. Consumers de-duplicate on it (the idempotency key); "
        "services derive it deterministically from their input so a replay yields the same id."
    )
    event_type: str = Field(description="Type of this event.")
    schema_version: SchemaVersion = Field(
        default=1, description="Major version of this event's contract."
    )
    occurred_at: AwareDatetime = Field(
        description="When the fact happened, as an RFC 3339 time with a timezone. Events derived "
        "from one data event carry that data event's time, so a replay yields the same payload."
    )
    producer: Identifier = Field(description="Name of the service or system that produced it.")
    causation_id: Identifier | None = Field(
        default=None,
        description="event_id of the event this one was derived from, if any (for lineage).",
    )

    @classmethod
    def type_name(cls) -> str:
        """Return the ``event_type`` this class carries (its key in the event registry)."""
        return str(cls.model_fields["event_type"].default)

    @classmethod
    def major_version(cls) -> int:
        """Return the major ``schema_version`` this class carries."""
        return int(cls.model_fields["schema_version"].default)
