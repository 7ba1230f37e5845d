"""The decoder and the contracts accept and reject the same records, batch after batch."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from driftloop_contracts import TOPICS, Event
from driftloop_runtime import SourceRecord, parse_records
from driftloop_runtime.decoding import parse_records as decode

pytestmark = pytest.mark.unit

INTERNAL = [t for t in TOPICS if "upstream" not in t.producers]
UPSTREAM = [t for t in TOPICS if "upstream" in t.producers]
WRONG_TYPES: tuple[Any, ...] = ([[]], {"x": [[]]}, "1", 1, 1.5, True, None)
NOT_JSON = (b"", b"not json", b"\xff\xfe{}", b"{", b'{"event_id": "e-1"', b"[]", b"null", b"42")


def valid_payloads(contract: type[Event]) -> list[dict[str, Any]]:
    """The example, and copies with other ids and offsets (still valid)."""
    example = json.loads(contract.example().model_dump_json())
    copies = [{**example, "event_id": f"{contract.type_name()}:copy-{n}"} for n in range(3)]
    return [example, *copies]


def leaves(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Every path into ``value``'s objects and arrays, the containers' own included."""
    if path:
        yield path
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from leaves(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value[:2]):
            yield from leaves(inner, (*path, index))


def replaced(payload: Any, path: tuple[str | int, ...], value: Any) -> Any:
    """A deep copy of ``payload`` with ``path`` set to ``value`` (or removed for ``...``)."""
    copy = json.loads(json.dumps(payload))
    *parents, last = path
    holder = copy
    for step in parents:
        holder = holder[step]
    if value is ...:
        del holder[last]
    else:
        holder[last] = value
    return copy


def mutations(payload: dict[str, Any]) -> Iterator[Any]:
    """Inputs around a valid payload: each field missing, of another type, out of range or
    over its length; an extra field; another event type or schema version."""
    for path in leaves(payload):
        yield replaced(payload, path, ...)
        for wrong in WRONG_TYPES:
            yield replaced(payload, path, wrong)
        yield from out_of_range(payload, path)
    yield {**payload, "unexpected": 1}
    yield {**payload, "event_type": "nope"}
    for version in (2, "1", 1.0, 0):
        yield {**payload, "schema_version": version}


def out_of_range(payload: dict[str, Any], path: tuple[str | int, ...]) -> Iterator[Any]:
    holder: Any = payload
    for step in path:
        holder = holder[step]
    if isinstance(holder, bool):
        return
    if isinstance(holder, int | float):
        for number in (-1, 0, 1.5, 2**63, 1e400):
            yield replaced(payload, path, number)
    elif isinstance(holder, str):
        for text in ("", "not an id!", "x" * 5000, "2025-01-15T09:30:00"):
            yield replaced(payload, path, text)
    elif isinstance(holder, list):
        yield replaced(payload, path, [])
        yield replaced(payload, path, holder * 300)


def batch_of(contract: type[Event], seed: int = 12) -> list[bytes]:
    """The valid payloads and every generated bad input, shuffled into one batch."""
    valid = [json.dumps(p).encode() for p in valid_payloads(contract)]
    bad = [json.dumps(m).encode() for m in mutations(valid_payloads(contract)[0])]
    values = valid + bad + list(NOT_JSON)
    random.Random(seed).shuffle(values)
    return values


def records(values: list[bytes]) -> list[SourceRecord]:
    return [SourceRecord("t", 0, offset, None, value) for offset, value in enumerate(values)]


def one_by_one(contract: type[Event], values: list[bytes]) -> list[Event | ValidationError]:
    """What ``model_validate_json`` makes of each value: its event, or its error."""
    judged: list[Event | ValidationError] = []
    for value in values:
        try:
            judged.append(contract.model_validate_json(value))
        except ValidationError as error:
            judged.append(error)
    return judged


@pytest.mark.parametrize("topic", INTERNAL + UPSTREAM, ids=lambda t: t.name)
def test_the_decoder_accepts_and_rejects_what_the_contract_does(topic: Any) -> None:
    contract, values = topic.event, batch_of(topic.event)
    valid, rejected = decode(contract, records(values))
    expected = one_by_one(contract, values)
    assert [r.source.offset for r in rejected] == [
        n for n, e in enumerate(expected) if isinstance(e, ValidationError)
    ]
    assert [r.reason for r in rejected] == [
        f"does not match {contract.__name__}: {e}"
        for e in expected
        if isinstance(e, ValidationError)
    ]
    assert {r.error_type for r in rejected} == {"contract"}
    assert [(i.source.offset, i.event) for i in valid] == [
        (n, e) for n, e in enumerate(expected) if not isinstance(e, ValidationError)
    ]
    assert all(type(i.event) is contract for i in valid)
    assert [i.event.model_dump_json() for i in valid] == [
        e.model_dump_json() for e in expected if not isinstance(e, ValidationError)
    ]


@pytest.mark.parametrize("topic", INTERNAL + UPSTREAM, ids=lambda t: t.name)
def test_the_generated_batches_hold_valid_records_and_many_kinds_of_bad_ones(topic: Any) -> None:
    judged = one_by_one(topic.event, batch_of(topic.event))
    errors = [e for e in judged if isinstance(e, ValidationError)]
    kinds = {detail["type"] for error in errors for detail in error.errors()}
    assert len(judged) - len(errors) >= len(valid_payloads(topic.event))
    assert len(errors) >= 40
    assert {"json_invalid", "missing", "extra_forbidden", "literal_error"} <= kinds
    assert len(kinds) >= 8, kinds


def test_every_consumed_topic_is_covered_and_the_raw_ones_are_upstreams() -> None:
    assert {t.name for t in UPSTREAM} == {"driftloop.data.v1", "driftloop.outcomes.v1"}
    assert len(INTERNAL) + len(UPSTREAM) == len(TOPICS)


def test_parse_records_is_the_decoder() -> None:
    assert parse_records is decode


@pytest.mark.parametrize("contract", [t.event for t in INTERNAL], ids=lambda c: c.type_name())
def test_a_batch_of_only_valid_or_only_bad_records_or_none(contract: type[Event]) -> None:
    good = [json.dumps(p).encode() for p in valid_payloads(contract)]
    assert [len(part) for part in decode(contract, records(good))] == [len(good), 0]
    assert [len(part) for part in decode(contract, records(list(NOT_JSON)))] == [0, len(NOT_JSON)]
    assert decode(contract, []) == ([], [])
