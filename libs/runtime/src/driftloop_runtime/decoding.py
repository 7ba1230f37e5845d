"""Consumed records decoded into their contract's events, each record judged on its own.

Every topic is decoded the same way, whether upstream systems write it (data and outcomes,
the boundary ingestion guards) or driftloop's own services do: pydantic-core parses and
validates each record's bytes against its contract in one call. That is the contract's full
validation, so the contracts stay the single source of truth, with no second decoder to keep
in step with them.

Why not a faster path for driftloop's own topics: measured on the hot-path contracts,
decoding without validation (orjson or msgspec, then ``model_construct``) was no faster,
because ``model_construct`` walks the fields in Python, and it could not reject what the
contracts reject; one ``TypeAdapter`` call over a whole batch was slower than the contract's
own validator called per record. What is saved is the wrapper: the validator is looked up once
per batch and called without ``model_validate_json``'s keyword handling.

The guarantee: a record that is not JSON or breaks its contract becomes exactly one rejection
(reason ``does not match <Contract>: <error>``, error type ``contract``), and every other record
decodes to the event ``model_validate_json`` gives, in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from pydantic import ValidationError

from driftloop_contracts import Event
from driftloop_runtime.records import Incoming, Rejection, SourceRecord

__all__ = ["parse_records"]

E = TypeVar("E", bound=Event)


def parse_records(
    contract: type[E], records: Sequence[SourceRecord]
) -> tuple[list[Incoming[E]], list[Rejection]]:
    """Split ``records`` into ``contract`` events and rejections for the ones that break it
    (the validation error is the reason, ``error_type`` is ``contract``).

    Args:
        contract: The event model of the records' topic.
        records: The consumed records, in order.

    Returns:
        The valid events with their records, and the rejections, each in the records' order.
    """
    validate = contract.__pydantic_validator__.validate_json
    valid: list[Incoming[E]] = []
    rejected: list[Rejection] = []
    for record in records:
        try:
            valid.append(Incoming(validate(record.value), record))
        except ValidationError as error:
            reason = f"does not match {contract.__name__}: {error}"
            rejected.append(Rejection(record, reason, error_type="contract"))
    return valid, rejected
