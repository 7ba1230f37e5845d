"""Dead letters: input a consumer could not process, kept with the reason and the original bytes."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal, Self

from pydantic import Field, field_validator

from driftloop_contracts import _examples as ex
from driftloop_contracts.envelope import Event, event_type_field
from driftloop_contracts.types import Identifier, Name, Offset, Partition, Text, TopicName

__all__ = ["MAX_ORIGINAL_BYTES", "DeadLettered"]

MAX_ORIGINAL_BYTES = 1_048_576
"""Largest original value a dead letter holds (Kafka's default maximum message size)."""


def _decode_base64(value: str) -> bytes:
    # altchars maps the URL-safe '-' and '_' onto '+' and '/', so both alphabets decode.
    padded = value + "=" * (-len(value) % 4)
    return base64.b64decode(padded, altchars=b"-_", validate=True)


class DeadLettered(Event):
    """A record a consumer could not process, parked with why and where it came from.

    Topic ``driftloop.deadletter.v1``, Kafka key = the original record's key. Bad input never
    stops a consumer and is never dropped silently: it lands here, byte for byte. In JSON,
    ``original_value`` is base64 (URL-safe alphabet, padded); the standard alphabet is accepted.
    """

    event_type: Literal["deadletter"] = event_type_field("deadletter")
    reason: Text = Field(description="Why the record was rejected, for a human to act on.")
    error_type: Name | None = Field(
        default=None, description="Class of the error, e.g. 'ValidationError'."
    )
    original_value: Annotated[bytes, Field(max_length=MAX_ORIGINAL_BYTES)] = Field(
        description="The rejected record's value, byte for byte (base64 in JSON)."
    )
    original_key: Annotated[str, Field(max_length=1024)] | None = Field(
        description="The rejected record's key, decoded as UTF-8; null when it had none."
    )
    source_topic: TopicName = Field(description="Topic the rejected record was read from.")
    source_partition: Partition = Field(description="Partition the record was read from.")
    source_offset: Offset = Field(description="Offset of the record in that partition.")
    consumer_group: Identifier = Field(description="Consumer group that rejected the record.")

    @field_validator("original_value", mode="before")
    @classmethod
    def _base64_text(cls, value: Any) -> Any:
        # A JSON document decoded to a dict first (as FastStream does) reaches us in Python mode,
        # where pydantic would take a base64 string as raw UTF-8 bytes: decode it here instead.
        if isinstance(value, str):
            try:
                return _decode_base64(value)
            except binascii.Error as error:
                raise ValueError(f"original_value is not valid base64: {error}") from None
        return value

    @classmethod
    def example(cls) -> Self:
        """Return the dead letter for a data event whose dataset name is invalid."""
        return cls(
            event_id="deadletter:driftloop.data.v1:2:5531",
            occurred_at=ex.later(seconds=2),
            producer="ingestion",
            reason="dataset: invalid dataset name 'Payments': use 1 to 63 characters, starting "
            "with a lowercase letter, followed by lowercase letters, digits, '_' or '-'",
            error_type="ValidationError",
            original_value=b'{"event_id":"e-77","dataset":"Payments","entity_id":"acct-7",'
            b'"occurred_at":"2025-01-15T09:30:02Z","fields":{"amount":12.0}}',
            original_key="acct-7",
            source_topic="driftloop.data.v1",
            source_partition=2,
            source_offset=5531,
            consumer_group="driftloop-ingestion",
        )
