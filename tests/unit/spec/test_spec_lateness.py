"""The spec's lateness: optional with defaults, read as durations, written canonically, bounded."""

from __future__ import annotations

import pytest

from driftloop_spec import LatenessSpec, parse_spec
from tests.unit.spec.helpers import FRAUD, SENSORS, line_of, only_issue, replace_once

pytestmark = pytest.mark.unit

WRITTEN = "lateness:\n  events: 5m\n  labels: 7d\n"


def test_the_fraud_spec_writes_the_defaults_out() -> None:
    assert WRITTEN in FRAUD
    spec = parse_spec(FRAUD)
    assert (spec.lateness.events, spec.lateness.labels) == (300, 7 * 86_400)
    assert spec.lateness == LatenessSpec()


def test_lateness_is_optional_and_its_defaults_fill_the_document() -> None:
    spec = parse_spec(SENSORS)
    assert "lateness" not in SENSORS
    assert spec.lateness == LatenessSpec()
    assert spec.to_document()["lateness"] == {"events": "5m", "labels": "7d"}


def test_leaving_the_defaults_out_keeps_the_digest() -> None:
    implicit = parse_spec(replace_once(FRAUD, WRITTEN, ""))
    only_events = parse_spec(replace_once(FRAUD, WRITTEN, "lateness:\n  events: 300s\n"))
    assert implicit.digest() == only_events.digest() == parse_spec(FRAUD).digest()


def test_durations_are_written_in_their_canonical_unit() -> None:
    text = replace_once(FRAUD, "  events: 5m\n  labels: 7d", "  events: 120m\n  labels: 48h")
    spec = parse_spec(text)
    assert (spec.lateness.events, spec.lateness.labels) == (7200, 172_800)
    assert spec.to_document()["lateness"] == {"events": "2h", "labels": "2d"}
    assert spec.digest() != parse_spec(FRAUD).digest()


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        (
            "events: 5m",
            "events: 2d",
            "lateness.events",
            "duration '2d' is out of range: use 1s to 1d",
        ),
        ("events: 5m", "events: 0s", "lateness.events", "invalid duration '0s': it must be longer"),
        (
            "labels: 7d",
            "labels: 30s",
            "lateness.labels",
            "duration '30s' is out of range: use 1m to",
        ),
        ("labels: 7d", "labels: 366d", "lateness.labels", "duration '366d' is out of range"),
        ("labels: 7d", "labels: 7", "lateness.labels", "a duration must be a string"),
    ],
)
def test_an_out_of_range_lateness_is_named(old: str, new: str, path: str, message: str) -> None:
    text = replace_once(FRAUD, old, new)
    issue = only_issue(text)
    assert issue.path == path
    assert issue.message.startswith(message)
    assert issue.line == line_of(text, new)


def test_an_unknown_lateness_key_is_named_with_a_suggestion() -> None:
    issue = only_issue(replace_once(FRAUD, "labels: 7d", "label: 7d"))
    assert issue.path == "lateness.label"
    assert issue.message == "unknown key 'label' (did you mean 'labels'?)"
