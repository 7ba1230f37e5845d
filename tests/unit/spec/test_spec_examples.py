"""The example specs load, and their canonical document and digest behave."""

from __future__ import annotations

import json

import pytest
import yaml

from driftloop_contracts import SpecApplied, spec_digest
from driftloop_spec import (
    AggregateFeature,
    DatasetSpec,
    Log1pFeature,
    OneHotFeature,
    load_spec,
    parse_spec,
)
from tests.unit.spec.helpers import FRAUD, SENSORS, SPECS, replace_once

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("name", ["fraud", "sensors"])
def test_example_specs_load(name: str) -> None:
    spec = load_spec(SPECS / f"{name}.yaml")
    assert spec.name == name
    assert spec.feature_columns()


def test_fraud_spec_reads_as_written() -> None:
    spec = parse_spec(FRAUD)
    assert spec.entity == "card"
    assert spec.label.task == "binary"
    assert spec.label.positive is True
    assert isinstance(spec.features[0], Log1pFeature)
    velocity = [f for f in spec.features if isinstance(f, AggregateFeature)]
    assert [(f.fn, f.field, f.window) for f in velocity] == [
        ("count", None, 3600),
        ("count", None, 86_400),
        ("mean", "amount", 86_400),
        ("max", "amount", 3600),
    ]
    assert spec.model.estimator == "sklearn.ensemble.HistGradientBoostingClassifier"
    assert spec.training.window == 7 * 86_400
    assert spec.promotion.mode == "automatic"


def test_feature_columns_follow_spec_order_with_one_hot_expanded() -> None:
    spec = parse_spec(FRAUD)
    merchant = next(f for f in spec.features if isinstance(f, OneHotFeature))
    assert spec.feature_columns() == (
        "log_amount",
        *(f"merchant:{category}" for category in merchant.categories),
        "merchant:__unknown__",
        "foreign_card",
        "hour",
        "tx_count_1h",
        "tx_count_24h",
        "amount_mean_24h",
        "amount_max_1h",
    )
    assert parse_spec(SENSORS).feature_columns() == (
        "temperature",
        "vibration",
        "rpm",
        "load",
        "humidity",
        "temperature_mean_15m",
    )


@pytest.mark.parametrize("text", [FRAUD, SENSORS])
def test_document_round_trips(text: str) -> None:
    spec = parse_spec(text)
    document = spec.to_document()
    assert json.loads(json.dumps(document)) == document
    again = DatasetSpec.from_document(document)
    assert again == spec
    assert again.to_document() == document


def test_document_is_canonical_with_defaults_filled_in() -> None:
    document = parse_spec(FRAUD).to_document()
    assert document["fields"]["amount"] == {
        "type": "float",
        "required": True,
        "nullable": False,
        "description": "Transaction amount in EUR.",
        "min": 0.0,
    }
    assert document["features"][5]["window"] == "1d"  # written as 24h
    assert document["drift"]["cooldown"] == "1h"
    assert document["promotion"] == {
        "metric": "roc_auc",
        "min_improvement": 0.005,
        "mode": "automatic",
    }


def test_document_travels_in_spec_applied() -> None:
    spec = parse_spec(FRAUD)
    event = SpecApplied(
        event_id="spec.applied:fraud:1",
        occurred_at="2025-01-01T00:00:00Z",
        producer="registry",
        dataset=spec.name,
        spec_version=1,
        spec=spec.to_document(),
        digest=spec.digest(),
    )
    assert event.digest_matches()
    assert DatasetSpec.from_document(event.spec) == spec


def test_digest_is_the_contracts_digest_of_the_document() -> None:
    spec = parse_spec(FRAUD)
    assert spec.digest() == spec_digest(spec.to_document())


def test_digest_ignores_key_order_whitespace_comments_and_duration_spelling() -> None:
    data = yaml.safe_load(FRAUD)
    reordered = yaml.safe_dump(data, sort_keys=True, indent=4, default_flow_style=True)
    respelled = FRAUD.replace("window: 24h", "window: 1440m").replace("window: 7d", "window: 168h")
    explicit = replace_once(FRAUD, "  holdout: 0.2\n", "  holdout: 0.2\n  schedule: null\n")
    digest = parse_spec(FRAUD).digest()
    assert parse_spec(reordered).digest() == digest
    assert parse_spec(respelled).digest() == digest
    assert parse_spec(explicit).digest() == digest
    assert parse_spec(json.dumps(data)).digest() == digest  # JSON is YAML too


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("threshold: 0.2 ", "threshold: 0.25 "),
        ("min_improvement: 0.005", "min_improvement: 0.01"),
        ("timezone: Europe/Berlin", "timezone: UTC"),
        ("    fn: max\n", "    fn: min\n"),
    ],
)
def test_digest_changes_with_meaning(old: str, new: str) -> None:
    assert parse_spec(replace_once(FRAUD, old, new)).digest() != parse_spec(FRAUD).digest()


def test_feature_order_is_meaningful() -> None:
    data = yaml.safe_load(FRAUD)
    data["features"] = list(reversed(data["features"]))
    assert DatasetSpec.from_document(data).digest() != parse_spec(FRAUD).digest()


def test_spec_is_immutable() -> None:
    spec = parse_spec(FRAUD)
    with pytest.raises(ValueError, match="frozen"):
        spec.name = "other"  # type: ignore[misc]


def test_readme_example_is_the_fraud_spec() -> None:
    readme = (SPECS.parent / "libs" / "spec" / "README.md").read_text(encoding="utf-8")
    example = readme.split("## The fraud example", 1)[1].split("```yaml\n", 1)[1].split("```")[0]
    assert parse_spec(example).digest() == parse_spec(FRAUD).digest()
