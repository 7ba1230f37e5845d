"""Events constructed without validation equal the validated ones, and serialise alike."""

from __future__ import annotations

from typing import Any

import pytest

from driftloop_contracts import EVENTS, DriftDetected, Event, FeaturesComputed, PredictionMade
from driftloop_runtime import construct

pytestmark = pytest.mark.unit

PLAIN = [
    m for m in EVENTS.values() if all(f.default_factory is None for f in m.model_fields.values())
]


def given(event: Event) -> dict[str, Any]:
    """The fields ``event`` was made with, as keyword arguments."""
    return {name: getattr(event, name) for name in event.model_fields_set}


@pytest.mark.parametrize("contract", PLAIN, ids=lambda c: c.type_name())
def test_a_constructed_event_equals_the_validated_one(contract: type[Event]) -> None:
    assert {FeaturesComputed, PredictionMade} <= set(PLAIN)
    example = contract.example()
    built = construct(contract, **given(example))
    assert type(built) is contract
    assert built == example
    assert built.model_dump_json() == example.model_dump_json()
    assert built.model_fields_set == example.model_fields_set
    assert contract.model_validate_json(built.model_dump_json()) == built


def test_fields_left_out_take_their_defaults() -> None:
    fields = given(PredictionMade.example())
    del fields["trace_id"], fields["source_offset"]
    built = construct(PredictionMade, **fields)
    assert (built.trace_id, built.source_offset, built.shadow) == (None, None, False)
    assert built.model_dump_json() == PredictionMade(**fields).model_dump_json()


def test_unknown_and_missing_fields_raise() -> None:
    fields = given(FeaturesComputed.example())
    with pytest.raises(TypeError, match=r"unknown fields \['valuez'\], missing \[\]"):
        construct(FeaturesComputed, **fields, valuez=[1.0])
    del fields["values"]
    with pytest.raises(TypeError, match=r"unknown fields \[\], missing \['values'\]"):
        construct(FeaturesComputed, **fields)


def test_a_contract_with_default_factories_is_refused() -> None:
    with pytest.raises(TypeError, match="cannot build DriftDetected"):
        construct(DriftDetected, **given(DriftDetected.example()))
