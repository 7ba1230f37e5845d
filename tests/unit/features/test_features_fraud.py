"""The fraud example end to end: validated events in, the features worked out by hand out."""

from __future__ import annotations

import math
from datetime import datetime

import pytest

from driftloop_contracts import DataValidated, FeaturesComputed
from driftloop_features import EntityWindows, FeatureBatch, compute_features

from .helpers import load_fraud

pytestmark = pytest.mark.unit

MERCHANTS = [
    "grocery",
    "restaurant",
    "travel",
    "electronics",
    "fuel",
    "online_retail",
    "entertainment",
    "health",
]


def tx(n: int, card: str, when: str, amount: float, merchant: str, country: str) -> DataValidated:
    """Transaction ``n`` of a card issued in DE, as ingestion publishes it."""
    return DataValidated(
        event_id=f"data.validated:tx-{n}",
        occurred_at=datetime.fromisoformat(when),
        producer="ingestion",
        causation_id=f"tx-{n}",
        dataset="fraud",
        entity_id=card,
        subject_event_id=f"tx-{n}",
        fields={
            "amount": amount,
            "merchant_category": merchant,
            "country": country,
            "card_country": "DE",
        },
        spec_version=1,
        source_topic="driftloop.data.v1",
        source_partition=0,
        source_offset=n,
    )


STREAM = [
    tx(1, "c1", "2024-06-01T10:00:00+00:00", 10.0, "grocery", "DE"),
    tx(2, "c1", "2024-06-01T10:30:00+00:00", 100.0, "travel", "FR"),
    tx(3, "c2", "2024-06-01T10:45:00+00:00", 50.0, "online_retail", "DE"),
    tx(4, "c1", "2024-06-01T11:00:00+00:00", 20.0, "grocery", "DE"),
    tx(5, "c1", "2024-06-01T10:57:00+00:00", 40.0, "fuel", "DE"),  # 3 min late: inserted
    tx(6, "c1", "2024-06-01T10:40:00+00:00", 5.0, "health", "DE"),  # 20 min late: too late
    tx(7, "c1", "2024-06-02T10:30:00+00:00", 1.0, "electronics", "US"),
    tx(8, "c2", "2024-06-02T10:45:00+00:00", 0.0, "restaurant", "DE"),  # exactly 24h after tx 3
]

# log_amount, merchant, foreign_card, hour (Berlin, UTC+2 in June), tx_count_1h, tx_count_24h,
# amount_mean_24h, amount_max_1h
EXPECTED = [
    (math.log(11), "grocery", 0, 12, 1, 1, 10.0, 10.0),
    (math.log(101), "travel", 1, 12, 2, 2, 55.0, 100.0),
    (math.log(51), "online_retail", 0, 12, 1, 1, 50.0, 50.0),
    # (10:00, 11:00] holds 10:30 and 11:00; 24h holds all three.
    (math.log(21), "grocery", 0, 13, 2, 3, 130 / 3, 100.0),
    # Its own window (09:57, 10:57]: 10:00, 10:30 and itself; 11:00 is after it.
    (math.log(41), "fuel", 0, 12, 3, 3, 50.0, 100.0),
    # (09:40, 10:40] as held: 10:00, 10:30, and itself.
    (math.log(6), "health", 0, 12, 3, 3, 115 / 3, 100.0),
    # 24h back to (06-01 10:30, 06-02 10:30]: 10:57 (late, kept) and 11:00, not 10:40 (too late,
    # not kept) nor 10:30 (exactly 24h older).
    (math.log(2), "electronics", 1, 12, 1, 3, 61 / 3, 1.0),
    (0.0, "restaurant", 0, 12, 1, 1, 0.0, 0.0),
]


@pytest.fixture(scope="module")
def batch() -> FeatureBatch:
    return compute_features(load_fraud(), STREAM, EntityWindows())


def test_columns_are_the_specs() -> None:
    spec = load_fraud()
    assert compute_features(spec, STREAM[:1], EntityWindows()).columns == (
        "log_amount",
        *(f"merchant:{m}" for m in MERCHANTS),
        "merchant:__unknown__",
        "foreign_card",
        "hour",
        "tx_count_1h",
        "tx_count_24h",
        "amount_mean_24h",
        "amount_max_1h",
    )
    assert spec.feature_columns() == compute_features(spec, [], EntityWindows()).columns


@pytest.mark.parametrize("index", range(len(STREAM)))
def test_each_transaction_by_hand(batch: FeatureBatch, index: int) -> None:
    log_amount, merchant, foreign, hour, n_1h, n_24h, mean_24h, max_1h = EXPECTED[index]
    expected = [
        log_amount,
        *(1.0 if m == merchant else 0.0 for m in MERCHANTS),
        0.0,
        foreign,
        hour,
        n_1h,
        n_24h,
        mean_24h,
        max_1h,
    ]
    assert batch.values[index].tolist() == pytest.approx(expected, rel=1e-15, abs=0)


def test_arrivals_and_stats(batch: FeatureBatch) -> None:
    assert batch.arrivals == (
        "on_time",
        "on_time",
        "on_time",
        "on_time",
        "late",
        "too_late",
        "on_time",
        "on_time",
    )
    assert batch.stats.events == 8
    assert (batch.stats.late, batch.stats.too_late, batch.stats.duplicates) == (1, 1, 0)
    assert batch.event_ids[0] == "data.validated:tx-1"


def test_a_row_becomes_a_features_computed_event(batch: FeatureBatch) -> None:
    row = batch.row(1)
    event = FeaturesComputed(
        event_id="features:tx-2",
        occurred_at=STREAM[1].occurred_at,
        producer="feature",
        causation_id=STREAM[1].event_id,
        dataset="fraud",
        entity_id="c1",
        subject_event_id="tx-2",
        spec_version=1,
        feature_names=list(row),
        values=list(row.values()),
        source_topic="driftloop.data.validated.v1",
        source_partition=0,
        source_offset=2,
    )
    assert event.as_dict()["foreign_card"] == 1.0
    assert event.as_dict()["merchant:travel"] == 1.0
    assert event.as_dict()["amount_mean_24h"] == 55.0


def test_served_online_in_pieces_equals_the_whole_stream_offline(batch: FeatureBatch) -> None:
    spec = load_fraud()
    windows = EntityWindows()
    pieces = [compute_features(spec, STREAM[i : i + 3], windows) for i in range(0, 8, 3)]
    online = [row for piece in pieces for row in piece.values.tolist()]
    assert online == batch.values.tolist()
