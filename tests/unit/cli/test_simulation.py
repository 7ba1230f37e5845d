"""The synthetic card-transaction stream: valid, reproducible, and its fraud pattern changes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from driftloop_cli.simulation import CardTransactions, outcome_of
from driftloop_spec import load_spec
from driftloop_spec.fields import CategoryField
from tests.integration.feature.stream import FRAUD

pytestmark = pytest.mark.unit


def test_the_same_seed_gives_the_same_stream_and_times_increase() -> None:
    first = CardTransactions(seed=3).take(200)
    again = CardTransactions(seed=3).take(200)
    assert [t.event for t in first] == [t.event for t in again]
    times = [t.event.occurred_at for t in first]
    assert times == sorted(times)
    assert len({t.event.event_id for t in first}) == 200


def test_every_transaction_fits_the_fraud_spec() -> None:
    spec = load_spec(FRAUD)
    merchant = spec.fields["merchant_category"]
    assert isinstance(merchant, CategoryField)
    closed = merchant.values
    for transaction in CardTransactions(fraud_rate=0.3).take(500):
        fields = transaction.event.fields
        assert fields["merchant_category"] in (closed or ())
        assert isinstance(fields["amount"], float)
        assert fields["amount"] >= 0
        assert set(fields) <= set(spec.fields)


def test_fraud_moves_from_abroad_to_domestic_at_the_change() -> None:
    stream = CardTransactions(fraud_rate=0.2, change_at=1_000, seed=5)
    before, after = stream.take(1_000), stream.take(1_000)
    fraud_before = [t for t in before if t.is_fraud]
    fraud_after = [t for t in after if t.is_fraud]

    assert 150 < len(fraud_before) < 250
    assert {t.pattern for t in fraud_before} == {"abroad"}
    assert {t.pattern for t in fraud_after} == {"domestic"}
    abroad = sum(t.event.fields["country"] != t.event.fields["card_country"] for t in fraud_before)
    assert abroad / len(fraud_before) > 0.8
    assert all(t.event.fields["country"] == t.event.fields["card_country"] for t in fraud_after)
    assert {t.event.fields["merchant_category"] for t in fraud_after} <= {"entertainment", "health"}


def test_labels_travel_inline_for_a_backfill_or_later_as_outcomes() -> None:
    stream = CardTransactions(fraud_rate=0.5)
    backfill = stream.take(20, labelled=True)
    live = stream.take(20)
    assert [t.event.label for t in backfill] == [t.is_fraud for t in backfill]
    assert all(t.event.label is None for t in live)

    outcome = outcome_of(live[0], timedelta(days=2))
    assert outcome.subject_event_id == live[0].event.event_id
    assert outcome.label == live[0].is_fraud
    assert outcome.occurred_at == live[0].event.occurred_at + timedelta(days=2)
