"""Bad input is rejected with a message that says what is wrong and where."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from pydantic import ValidationError

from driftloop_contracts import (
    DataEvent,
    DeadLettered,
    FeaturesComputed,
    NumericReference,
    PredictionMade,
    TrainingCompleted,
)

pytestmark = pytest.mark.unit


def _data(**changes: Any) -> dict[str, Any]:
    return {**DataEvent.example().model_dump(mode="json"), **changes}


def _error(model: type[Any], payload: dict[str, Any]) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(payload)
    return caught.value


def _only(error: ValidationError) -> dict[str, Any]:
    (first, *_) = error.errors()
    return dict(first)


def test_missing_field_is_named() -> None:
    payload = _data()
    del payload["entity_id"]
    error = _error(DataEvent, payload)
    assert (_only(error)["type"], _only(error)["loc"]) == ("missing", ("entity_id",))
    assert "entity_id\n  Field required" in str(error)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("event_id", 42, "string_type"),
        ("fields", ["amount", 1], "dict_type"),
        ("occurred_at", "yesterday", "datetime_from_date_parsing"),
        ("schema_version", "1", "value_error"),
        ("schema_version", True, "value_error"),
        ("event_type", "outcome", "literal_error"),
        ("unknown", "x", "extra_forbidden"),
    ],
)
def test_wrong_type_is_rejected(field: str, value: Any, expected: str) -> None:
    assert _only(_error(DataEvent, _data(**{field: value})))["type"] == expected


def test_numbers_are_not_read_from_strings_in_the_envelope() -> None:
    payload = DeadLettered.example().model_dump(mode="json")
    error = _error(DeadLettered, {**payload, "source_offset": "5531"})
    assert (_only(error)["type"], _only(error)["loc"]) == ("int_type", ("source_offset",))


def test_field_values_keep_their_json_types() -> None:
    fields = {"flag": True, "count": 1, "ratio": 1.5, "code": "1", "gone": None}
    event = DataEvent.model_validate_json(json.dumps(_data(fields=fields)))
    assert event.fields == fields
    assert [type(v) for v in event.fields.values()] == [bool, int, float, str, type(None)]


def test_field_value_must_be_a_scalar() -> None:
    error = _error(DataEvent, _data(fields={"nested": {"a": 1}}))
    assert all(e["loc"][:2] == ("fields", "nested") for e in error.errors())


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_json_numbers_are_rejected(token: str) -> None:
    raw = json.dumps(_data(fields={"amount": 0})).replace('"amount": 0', f'"amount": {token}')
    with pytest.raises(ValidationError, match="finite number"):
        DataEvent.model_validate_json(raw)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_floats_are_rejected(value: float) -> None:
    payload = FeaturesComputed.example().model_dump()
    error = _error(FeaturesComputed, {**payload, "values": [value, 1.0, 2.0, 3.0]})
    assert (_only(error)["type"], _only(error)["loc"]) == ("finite_number", ("values", 0))


def test_naive_timestamp_is_rejected() -> None:
    error = _error(DataEvent, _data(occurred_at=datetime(2025, 1, 15, 9, 30)))
    assert _only(error)["type"] == "timezone_aware"
    assert "Input should have timezone info" in str(error)


def test_naive_timestamp_in_json_is_rejected() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        DataEvent.model_validate_json(json.dumps(_data(occurred_at="2025-01-15T09:30:00")))


def test_oversized_field_map_is_rejected() -> None:
    error = _error(DataEvent, _data(fields={f"f{i}": i for i in range(257)}))
    assert _only(error)["type"] == "too_long"
    assert "at most 256 items" in str(error)


def test_oversized_string_is_rejected() -> None:
    error = _error(DataEvent, _data(fields={"note": "x" * 1025}))
    assert "at most 1024 characters" in str(error)


@pytest.mark.parametrize("name", ["Payments", "9lives", "", "a" * 64, "pay ments", "pay.ments"])
def test_bad_dataset_name_gets_a_clear_message(name: str) -> None:
    error = _error(DataEvent, _data(dataset=name))
    assert _only(error)["loc"] == ("dataset",)
    assert f"invalid dataset name {name!r}: use 1 to 63 characters" in str(error)


@pytest.mark.parametrize("bad", ["", "a b", "x" * 129, "id/with/slash"])
def test_bad_ids_are_rejected(bad: str) -> None:
    assert _only(_error(DataEvent, _data(event_id=bad)))["type"] == "string_pattern_mismatch"


def test_events_are_immutable() -> None:
    event = DataEvent.example()
    with pytest.raises(ValidationError, match="frozen"):
        event.entity_id = "other"  # type: ignore[misc]


def test_feature_names_and_values_must_be_parallel() -> None:
    payload = FeaturesComputed.example().model_dump()
    error = _error(FeaturesComputed, {**payload, "values": [1.0]})
    assert "values has 1 items but feature_names has 4" in str(error)


def test_probabilities_must_be_between_zero_and_one() -> None:
    payload = PredictionMade.example().model_dump()
    error = _error(PredictionMade, {**payload, "scores": {"true": 1.5}})
    assert _only(error)["type"] == "less_than_equal"


def test_failed_training_needs_a_reason() -> None:
    payload = TrainingCompleted.example().model_dump()
    error = _error(TrainingCompleted, {**payload, "status": "failed"})
    assert "a failed run needs a failure_reason" in str(error)


def test_histogram_must_add_up() -> None:
    payload = NumericReference.example().model_dump()
    error = _error(NumericReference, {**payload, "count": 999})
    assert "bin_counts sum to 1000, not count=999" in str(error)


def test_dead_letter_value_is_base64_in_json_and_in_decoded_dicts() -> None:
    letter = DeadLettered.example()
    as_dict = json.loads(letter.model_dump_json())
    assert as_dict["original_value"] != letter.original_value.decode()
    assert DeadLettered.model_validate(as_dict).original_value == letter.original_value
    error = _error(DeadLettered, {**as_dict, "original_value": "not base64!"})
    assert "original_value is not valid base64" in str(error)
