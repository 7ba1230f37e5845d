"""The predict API's history: features as the feature service computes them, nothing changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from numpy.typing import NDArray

from driftloop_contracts import DataValidated, SpecApplied, spec_digest
from driftloop_features import DataRow, EntityWindows, FieldValue, compute_features
from driftloop_scorer.online import RecentEvents
from driftloop_spec import DatasetSpec

from .helpers import FRAUD, T0, validated
from .test_loading import catalog

pytestmark = pytest.mark.unit


def stream(count: int, cards: int, step_s: int = 600) -> list[DataValidated]:
    rng = np.random.default_rng(3)
    return [
        validated(n, int(rng.integers(cards)), T0 + timedelta(seconds=step_s * n), 5.0 + n)
        for n in range(count)
    ]


def request(card: int, at_s: int) -> DataRow:
    fields: dict[str, FieldValue] = {
        "amount": 99.0,
        "merchant_category": "travel",
        "country": "DE",
        "card_country": "FR",
    }
    return DataRow("req-1", f"card-{card}", T0 + timedelta(seconds=at_s), fields)


def recent_of(
    events: list[DataValidated],
    max_entities: int = 100,
    spec: DatasetSpec = FRAUD,
    max_events: int = 1_000,
) -> RecentEvents:
    recent = RecentEvents(
        catalog(spec), max_entities=max_entities, max_events_per_entity=max_events
    )
    recent.add(events)
    return recent


def served_after(events: list[DataValidated], row: DataRow) -> NDArray[np.float64]:
    """The vector (shape ``(1, columns)``) the feature service computes for ``row`` arriving
    after ``events``."""
    windows = EntityWindows(lateness=FRAUD.lateness.events)
    return compute_features(FRAUD, [*events, row], windows).values[-1:]


def fraud_late_by(events: str) -> DatasetSpec:
    """The fraud spec with another ``lateness.events``."""
    document = FRAUD.to_document()
    return DatasetSpec.from_document(
        {**document, "lateness": {**document["lateness"], "events": events}}
    )


def test_a_requests_features_are_the_feature_services_for_it_arriving_next() -> None:
    events = stream(300, cards=4)
    row = request(card=2, at_s=600 * 300)
    windows = EntityWindows(lateness=FRAUD.lateness.events)
    expected = compute_features(FRAUD, [*events, row], windows).values[-1]
    recent = recent_of(events)
    np.testing.assert_array_equal(recent.features(FRAUD, row)[0], expected)


def test_a_request_changes_nothing_kept() -> None:
    recent = recent_of(stream(50, cards=2))
    before = recent.counts()
    first = recent.features(FRAUD, request(card=1, at_s=600 * 50))
    again = recent.features(FRAUD, request(card=1, at_s=600 * 50))
    np.testing.assert_array_equal(first, again)
    assert recent.counts() == before


def test_events_past_the_longest_window_and_lateness_are_not_kept() -> None:
    recent = recent_of(stream(400, cards=1))  # 400 events 10 minutes apart: ~2.8 days
    held = recent.counts()["events_held"]
    assert held == {"fraud": (24 * 3600 + 300) // 600 + 1}


def test_the_history_and_horizon_follow_the_specs_lateness() -> None:
    recent = recent_of(stream(400, cards=1), spec=fraud_late_by("1h"))
    assert recent.counts()["events_held"] == {"fraud": (24 * 3600 + 3600) // 600 + 1}
    assert recent.horizon_s() == 24 * 3600 + 3600


def test_the_least_recently_updated_entities_are_evicted_past_the_bound() -> None:
    events = [validated(n, n, T0 + timedelta(minutes=n)) for n in range(5)]
    recent = recent_of(events, max_entities=3)
    assert recent.counts()["entities"] == {"fraud": 3}
    fresh = compute_features(FRAUD, [request(0, 600)], EntityWindows()).values
    np.testing.assert_array_equal(recent.features(FRAUD, request(0, 600)), fresh)


def test_windowed_features_wait_for_the_history_to_be_read() -> None:
    recent = RecentEvents(catalog(), max_entities=10, max_events_per_entity=10)
    assert recent.unready(FRAUD) == "the per-entity history is still being read; retry shortly"
    recent.caught_up = True
    assert recent.unready(FRAUD) is None
    off = RecentEvents(catalog(), max_entities=10, max_events_per_entity=10, enabled=False)
    assert "DRIFTLOOP_PREDICT_STATE=false" in str(off.unready(FRAUD))


def test_the_horizon_is_the_longest_window_plus_the_lateness() -> None:
    recent = recent_of(stream(3, cards=1))
    assert recent.horizon_s() == 24 * 3600 + 300
    recent.caught_up = True
    recent.clear()
    assert (recent.counts()["entities"], recent.caught_up) == ({}, False)


def busy(count: int, card: int = 0) -> list[DataValidated]:
    """``count`` events of one card a minute apart: all within the fraud spec's 24 hours."""
    return [validated(n, card, T0 + timedelta(minutes=n), 5.0 + n) for n in range(count)]


def test_an_entity_at_the_bound_has_the_feature_services_features() -> None:
    events = busy(120)
    row = request(card=0, at_s=60 * 120)
    recent = recent_of(events, max_events=120)
    np.testing.assert_array_equal(recent.features(FRAUD, row), served_after(events, row))
    assert recent.counts()["events_dropped"] == {}


def test_past_the_bound_the_oldest_events_are_dropped_and_counted() -> None:
    events = busy(120)
    row = request(card=0, at_s=60 * 120)
    recent = recent_of([*events, *busy(5, card=1)], max_events=100)
    counts = recent.counts()
    assert counts["events_held"] == {"fraud": 105}
    assert counts["largest_entity"] == {"fraud": 100}
    assert counts["events_dropped"] == {"fraud": 20}
    newest = served_after(events[20:], row)
    np.testing.assert_array_equal(recent.features(FRAUD, row), newest)
    count_24h = FRAUD.feature_columns().index("tx_count_24h")
    assert recent.features(FRAUD, row)[0, count_24h] == 101  # the newest 100 and the request
    assert served_after(events, row)[0, count_24h] == 121


def without_amount(event: DataValidated) -> DataRow:
    fields = {k: v for k, v in event.fields.items() if k != "amount"}
    return DataRow(event.event_id, event.entity_id, event.occurred_at, fields)


def test_a_field_a_new_spec_version_aggregates_counts_from_the_change_on() -> None:
    document = FRAUD.to_document()
    kept = [f for f in document["features"] if f.get("fn") not in ("mean", "max")]
    recent = recent_of([], spec=DatasetSpec.from_document({**document, "features": kept}))
    before, after = busy(30)[:20], busy(30)[20:]
    recent.add(before)
    recent._specs.apply(  # version 2: the fraud spec, which also aggregates amounts
        SpecApplied(
            event_id="spec.applied:fraud:2",
            occurred_at=datetime(2026, 11, 2, tzinfo=UTC),
            producer="registry",
            dataset="fraud",
            spec_version=2,
            spec=document,
            digest=spec_digest(document),
        )
    )
    recent.add(after)
    row = request(card=0, at_s=60 * 30)
    windows = EntityWindows(lateness=FRAUD.lateness.events)
    served = compute_features(FRAUD, [*map(without_amount, before), *after, row], windows)
    np.testing.assert_array_equal(recent.features(FRAUD, row)[0], served.values[-1])
