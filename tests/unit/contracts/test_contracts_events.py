"""Every contract's example is valid, round-trips through JSON and matches its published schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from driftloop_contracts import EVENTS, ContractModel, Event, event_model
from driftloop_contracts.registry import UnknownEventTypeError
from driftloop_contracts.schemas import schema_filename

pytestmark = pytest.mark.unit

SCHEMAS = Path(__file__).resolve().parents[3] / "contracts" / "schemas"
MODELS = list(EVENTS.values())


def _all_subclasses(cls: type[ContractModel]) -> list[type[ContractModel]]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_all_subclasses(sub)]
    return found


def _concrete_models() -> list[type[ContractModel]]:
    return [
        cls
        for cls in _all_subclasses(ContractModel)
        if cls.__module__.startswith("driftloop_contracts")
        and not cls.__name__.startswith("_")
        and cls is not Event
    ]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.type_name())
def test_example_round_trips_through_json(model: type[Event]) -> None:
    example = model.example()
    assert model.model_validate_json(example.model_dump_json()) == example
    assert model.model_validate(json.loads(example.model_dump_json())) == example


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.type_name())
def test_example_is_valid_under_the_published_schema(model: type[Event]) -> None:
    schema = json.loads((SCHEMAS / schema_filename(model)).read_text())
    payload = json.loads(model.example().model_dump_json())
    Draft202012Validator(schema).validate(payload)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.type_name())
def test_event_type_and_version_default_to_the_contract(model: type[Event]) -> None:
    example = model.example()
    assert example.event_type == model.type_name()
    assert example.schema_version == model.major_version() == 1
    assert event_model(model.type_name()) is model


@pytest.mark.parametrize("model", _concrete_models(), ids=lambda m: m.__name__)
def test_every_contract_class_has_an_example(model: type[ContractModel]) -> None:
    assert isinstance(model.example(), model)


def test_every_contract_class_is_found() -> None:
    names = {model.__name__ for model in _concrete_models()}
    assert {"ArtifactRef", "NumericReference", "TimeWindow", "DataEvent"} <= names


def test_unknown_event_type_names_the_known_ones() -> None:
    with pytest.raises(UnknownEventTypeError, match="unknown event type 'nope'; known: data"):
        event_model("nope")


def test_upstream_events_need_only_their_fixed_fields() -> None:
    data = event_model("data").model_validate_json(
        '{"event_id": "e-1", "dataset": "payments", "entity_id": "acct-1",'
        ' "occurred_at": "2025-01-15T09:30:00+01:00", "fields": {"amount": 1}}'
    )
    outcome = event_model("outcome").model_validate_json(
        '{"event_id": "o-1", "dataset": "payments", "subject_event_id": "e-1", "label": true,'
        ' "occurred_at": "2025-01-16T09:30:00Z"}'
    )
    assert (data.producer, data.event_type, data.schema_version) == ("upstream", "data", 1)
    assert (outcome.producer, outcome.causation_id) == ("upstream", None)
