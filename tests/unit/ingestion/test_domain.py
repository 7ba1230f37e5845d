"""Validation of data and outcome events against their dataset spec: every rule, no I/O."""

from __future__ import annotations

import pytest

from driftloop_contracts import DATA_TOPIC, OUTCOMES_TOPIC, DataValidated, OutcomeValidated
from driftloop_contracts.types import FieldValue
from driftloop_ingestion.domain import (
    Verdict,
    derived_id,
    outcome_key,
    size_problem,
    validate_data_event,
    validate_outcome,
    validated_data,
    validated_outcome,
)
from driftloop_runtime import SourceRecord
from driftloop_spec import DatasetSpec, LabelSpec
from tests.unit.ingestion.helpers import data_event, outcome_event, spec

pytestmark = pytest.mark.unit

SPEC = spec()


def only_problem(verdict: Verdict) -> tuple[str, str]:
    assert len(verdict.problems) == 1, verdict.reason
    problem = verdict.problems[0]
    return problem.kind, str(problem)


def test_a_valid_event_has_no_problems_and_no_warnings() -> None:
    verdict = validate_data_event(SPEC, data_event())
    assert verdict.ok
    assert verdict.reason == ""
    assert verdict.unknown_fields == ()


def test_an_event_of_a_dataset_without_spec_is_rejected() -> None:
    verdict = validate_data_event(None, data_event(dataset="nope"))
    assert only_problem(verdict) == ("unknown_dataset", 'dataset: no spec is applied for "nope"')
    assert verdict.error_type == "unknown_dataset"


def test_a_required_field_must_be_present_an_optional_one_may_be_absent() -> None:
    assert only_problem(validate_data_event(SPEC, data_event(drop=("country",)))) == (
        "missing_field",
        "country: missing (required)",
    )
    assert validate_data_event(SPEC, data_event(drop=("channel", "note"))).ok


def test_null_is_only_allowed_in_a_nullable_field() -> None:
    assert validate_data_event(SPEC, data_event(note=None)).ok
    assert only_problem(validate_data_event(SPEC, data_event(amount=None))) == (
        "null_value",
        "amount: null (not nullable)",
    )
    # optional is not nullable: `channel` may be absent, but not null
    assert only_problem(validate_data_event(SPEC, data_event(channel=None)))[0] == "null_value"


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("amount", True, "amount: expected a number, got boolean true"),
        ("amount", "42.5", 'amount: expected a number, got string "42.5"'),
        ("items", 3.0, "items: expected an integer, got number 3.0"),
        ("items", False, "items: expected an integer, got boolean false"),
        ("items", "3", 'items: expected an integer, got string "3"'),
        ("is_online", 1, "is_online: expected a boolean, got integer 1"),
        ("is_online", "true", 'is_online: expected a boolean, got string "true"'),
        ("note", 7, "note: expected a string, got integer 7"),
        ("country", 49, "country: expected a string, got integer 49"),
    ],
)
def test_values_of_the_wrong_type_are_rejected(
    field: str, value: FieldValue, expected: str
) -> None:
    assert only_problem(validate_data_event(SPEC, data_event(changes={field: value}))) == (
        "wrong_type",
        expected,
    )


@pytest.mark.parametrize(("field", "value"), [("amount", 7), ("amount", 0), ("items", 50)])
def test_an_integer_is_a_valid_float_and_bounds_are_inclusive(field: str, value: int) -> None:
    assert validate_data_event(SPEC, data_event(changes={field: value})).ok


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("amount", -0.01, "amount: -0.01 is below the minimum 0.0"),
        ("amount", 1000.5, "amount: 1000.5 is above the maximum 1000.0"),
        ("items", 0, "items: 0 is below the minimum 1"),
        ("items", 51, "items: 51 is above the maximum 50"),
    ],
)
def test_numbers_outside_their_bounds_are_rejected(field: str, value: float, expected: str) -> None:
    assert only_problem(validate_data_event(SPEC, data_event(changes={field: value}))) == (
        "out_of_bounds",
        expected,
    )


def test_a_string_longer_than_its_max_length_is_rejected() -> None:
    assert validate_data_event(SPEC, data_event(note="x" * 10)).ok
    assert only_problem(validate_data_event(SPEC, data_event(note="x" * 11))) == (
        "too_long",
        "note: 11 characters, over max_length 10",
    )


def test_a_closed_category_takes_only_its_values_an_open_one_any_string() -> None:
    kind, reason = only_problem(validate_data_event(SPEC, data_event(merchant_category="casino")))
    assert kind == "unknown_category"
    assert reason.startswith('merchant_category: "casino" is not one of ["grocery", "restaurant"')
    assert validate_data_event(SPEC, data_event(country="Atlantis")).ok


def test_a_long_list_of_allowed_values_is_cut_short_in_the_reason() -> None:
    document = spec().to_document()
    values = [f"v{i}" for i in range(25)]
    document["fields"]["merchant_category"]["values"] = values
    document["features"][1]["categories"] = values
    wide = DatasetSpec.from_document(document)
    _, reason = only_problem(validate_data_event(wide, data_event(merchant_category="x")))
    assert '"v9", ... (15 more)]' in reason
    assert '"v10"' not in reason


def test_every_problem_is_reported_not_only_the_first() -> None:
    event = data_event(amount=-5, items=2.5, drop=("country",), merchant_category="casino")
    verdict = validate_data_event(SPEC, event)
    assert [p.kind for p in verdict.problems] == [
        "out_of_bounds",
        "unknown_category",
        "missing_field",
        "wrong_type",
    ]
    assert verdict.reason.split("; ")[0] == "amount: -5 is below the minimum 0.0"
    assert verdict.reason.count("; ") == 3
    assert verdict.error_type == "spec"


def test_unknown_fields_are_warnings_not_problems() -> None:
    verdict = validate_data_event(SPEC, data_event(colour="red", size=3))
    assert verdict.ok
    assert verdict.unknown_fields == ("colour", "size")
    assert verdict.warnings == (
        "colour: unknown field, not in the spec (left out)",
        "size: unknown field, not in the spec (left out)",
    )


def test_unknown_fields_are_reported_on_an_invalid_event_too() -> None:
    verdict = validate_data_event(SPEC, data_event(amount=-1, colour="red"))
    assert not verdict.ok
    assert verdict.unknown_fields == ("colour",)


@pytest.mark.parametrize("label", [True, False])
def test_an_inline_label_of_the_spec_type_and_classes_passes(label: bool) -> None:
    assert validate_data_event(SPEC, data_event(label=label)).ok


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        (1, "label: expected a boolean, got integer 1"),
        ("true", 'label: expected a boolean, got string "true"'),
    ],
)
def test_an_inline_label_of_the_wrong_type_is_rejected(label: int | str, expected: str) -> None:
    assert only_problem(validate_data_event(SPEC, data_event(label=label))) == (
        "invalid_label",
        expected,
    )


def label_spec(**document: object) -> LabelSpec:
    return LabelSpec.model_validate({"name": "y", **document})


def test_a_multiclass_label_must_be_one_of_its_classes() -> None:
    colours = label_spec(task="multiclass", type="string", classes=["red", "green", "blue"])
    spec_ = SPEC.model_copy(update={"label": colours})
    assert validate_data_event(spec_, data_event(label="green")).ok
    assert only_problem(validate_data_event(spec_, data_event(label="pink"))) == (
        "invalid_label",
        'label: "pink" is not one of the classes ["red", "green", "blue"]',
    )


def test_an_integer_class_is_not_matched_by_a_boolean() -> None:
    grades = label_spec(task="multiclass", type="int", classes=[0, 1, 2])
    spec_ = SPEC.model_copy(update={"label": grades})
    assert validate_data_event(spec_, data_event(label=2)).ok
    assert only_problem(validate_data_event(spec_, data_event(label=True)))[0] == "invalid_label"


def test_a_regression_label_is_any_number_but_not_a_boolean() -> None:
    target = label_spec(task="regression", type="float")
    spec_ = SPEC.model_copy(update={"label": target})
    assert validate_data_event(spec_, data_event(label=3)).ok
    assert validate_data_event(spec_, data_event(label=-2.5)).ok
    assert only_problem(validate_data_event(spec_, data_event(label=False))) == (
        "invalid_label",
        "label: expected a number, got boolean false",
    )


def test_an_outcome_needs_a_known_dataset_and_a_label_valid_for_its_spec() -> None:
    assert validate_outcome(SPEC, outcome_event(label=False)).ok
    assert only_problem(validate_outcome(None, outcome_event()))[0] == "unknown_dataset"
    assert only_problem(validate_outcome(SPEC, outcome_event(label="no"))) == (
        "invalid_label",
        'label: expected a boolean, got string "no"',
    )


def test_a_message_over_the_size_limit_is_a_problem_that_names_its_size() -> None:
    assert size_problem(100, 100) is None
    problem = size_problem(101, 100)
    assert problem is not None
    assert str(problem) == "message: 101 bytes, over the limit of 100 bytes"
    assert Verdict((problem,)).error_type == "too_large"


def source(topic: str, offset: int) -> SourceRecord:
    return SourceRecord(topic=topic, partition=2, offset=offset, key=b"card-1", value=b"{}")


def test_a_valid_data_event_becomes_a_validated_event_with_deterministic_id() -> None:
    event = data_event("e-7", label=True, colour="red")
    made = validated_data(event, spec=SPEC, spec_version=4, source=source(DATA_TOPIC, 99))
    again = validated_data(event, spec=SPEC, spec_version=4, source=source(DATA_TOPIC, 99))
    assert made == again
    assert made.event_id == "data.validated:e-7"
    assert (made.causation_id, made.subject_event_id) == ("e-7", "e-7")
    assert (made.entity_id, made.spec_version, made.label) == ("card-1", 4, True)
    assert (made.source_topic, made.source_partition, made.source_offset) == (DATA_TOPIC, 2, 99)
    assert made.occurred_at == event.occurred_at
    assert "colour" not in made.fields
    assert made.fields == {k: v for k, v in event.fields.items() if k != "colour"}
    # built without validation: still what the contract accepts, and serialised alike
    assert DataValidated.model_validate_json(made.model_dump_json()) == made


def test_a_valid_outcome_becomes_a_validated_outcome_keyed_by_entity_or_subject() -> None:
    event = outcome_event("o-9", subject="e-7")
    made = validated_outcome(event, spec_version=2, source=source(OUTCOMES_TOPIC, 5))
    assert made.event_id == "outcome.validated:o-9"
    assert (made.causation_id, made.subject_event_id, made.label) == ("o-9", "e-7", True)
    assert outcome_key(event) == outcome_key(made) == "card-1"
    assert OutcomeValidated.model_validate_json(made.model_dump_json()) == made
    assert outcome_key(outcome_event(entity_id=None, subject="e-7")) == "e-7"


def test_a_derived_id_that_would_be_too_long_is_hashed_the_same_way_every_time() -> None:
    long_id = "x" * 128
    derived = derived_id("data.validated", long_id)
    assert len(derived) <= 128
    assert derived == derived_id("data.validated", long_id)
    assert derived != derived_id("data.validated", "y" * 128)
    assert derived.startswith("data.validated:sha256-")
