"""The training policy's optional cooldown: read as a duration, written canonically, bounded."""

from __future__ import annotations

import pytest

from driftloop_spec import parse_spec
from tests.unit.spec.helpers import FRAUD, SENSORS, only_issue, replace_once

pytestmark = pytest.mark.unit


def test_the_fraud_spec_cools_down_for_half_a_minute() -> None:
    assert parse_spec(FRAUD).training.cooldown == 30


def test_cooldown_is_optional_and_left_out_of_the_document_when_unset() -> None:
    spec = parse_spec(SENSORS)
    assert spec.training.cooldown is None
    assert "cooldown" not in spec.to_document()["training"]


def test_cooldown_is_written_in_its_canonical_unit() -> None:
    spec = parse_spec(replace_once(FRAUD, "cooldown: 30s", "cooldown: 3600s"))
    assert spec.training.cooldown == 3600
    assert spec.to_document()["training"]["cooldown"] == "1h"


def test_a_changed_cooldown_changes_the_digest() -> None:
    changed = parse_spec(replace_once(FRAUD, "cooldown: 30s", "cooldown: 30m"))
    assert changed.digest() != parse_spec(FRAUD).digest()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0s", "invalid duration '0s': it must be longer than zero"),
        ("400d", "duration '400d' is out of range: use 1s to 365d"),
        ("soon", "invalid duration 'soon'"),
    ],
)
def test_a_bad_cooldown_is_named(value: str, message: str) -> None:
    issue = only_issue(replace_once(FRAUD, "cooldown: 30s", f"cooldown: {value}"))
    assert issue.path == "training.cooldown"
    assert issue.message.startswith(message)
