"""The shape of compute_features' answer: empty batches, untouched state, times, finiteness."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from driftloop_features import DataRow, EntityWindows, compute_features, event_time_us

from .helpers import event, load_fraud, spec_of

pytestmark = pytest.mark.unit

STATELESS = spec_of(
    {"v": {"type": "float"}},
    [
        {"name": "v", "transform": "passthrough", "field": "v"},
        {"name": "h", "transform": "hour_of_day"},
    ],
)


def test_an_empty_batch_has_the_columns_and_no_rows() -> None:
    windows = EntityWindows()
    batch = compute_features(load_fraud(), [], windows)
    assert batch.values.shape == (0, 16)
    assert len(batch) == 0
    assert (batch.event_ids, batch.arrivals) == ((), ())
    assert batch.stats.events == 0
    assert len(windows) == 0


def test_a_spec_without_aggregates_leaves_the_windows_alone() -> None:
    windows = EntityWindows()
    batch = compute_features(
        STATELESS, [event("e1", v=1.5), event("e2", "b", 3600, v=2.0)], windows
    )
    assert batch.values.tolist() == [[1.5, 10.0], [2.0, 11.0]]
    assert batch.arrivals == ("on_time", "on_time")
    assert len(windows) == 0
    assert windows.events_held == 0


def test_row_reads_one_event_by_column_name() -> None:
    batch = compute_features(STATELESS, [event("e1", v=1.5)], EntityWindows())
    assert batch.row(0) == {"v": 1.5, "h": 10.0}
    assert list(batch.row(0)) == list(batch.columns)


def test_event_times_are_whole_microseconds_since_the_epoch() -> None:
    assert event_time_us(datetime(1970, 1, 1, tzinfo=UTC)) == 0
    assert event_time_us(datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=UTC)) == 1_000_005
    plus_two = timezone(timedelta(hours=2))
    assert event_time_us(datetime(1970, 1, 1, 2, tzinfo=plus_two)) == 0
    assert event_time_us(datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)) == -1
    with pytest.raises(ValueError, match="has no timezone"):
        event_time_us(datetime(2024, 1, 1))


def test_data_rows_default_to_no_fields() -> None:
    row = DataRow("e1", "a", datetime(2024, 1, 1, tzinfo=UTC))
    assert row.fields == {}


def test_every_value_is_finite_on_a_random_fraud_stream() -> None:
    rng = random.Random(7)
    start = datetime(2024, 3, 30, 20, tzinfo=UTC)  # Berlin moves its clocks during the stream
    merchants = ["grocery", "travel", "fuel", "health"]
    events = [
        DataRow(
            f"e{i}",
            f"card-{rng.randrange(20)}",
            start + timedelta(seconds=rng.randrange(0, 36 * 3600)),
            {
                "amount": rng.choice([0.0, 0.01, 1e6, rng.random() * 300]),
                "merchant_category": rng.choice(merchants),
                "country": rng.choice(["DE", "FR"]),
                "card_country": "DE",
            },
        )
        for i in range(2000)
    ]
    windows = EntityWindows(max_entities=10, lateness=600)
    batch = compute_features(load_fraud(), events, windows)
    assert bool(np.isfinite(batch.values).all())
    assert batch.stats.too_late > 0  # the times are shuffled: most arrive far too late
    assert batch.stats.evicted > 0
    assert len(windows) == 10
