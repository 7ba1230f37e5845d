"""The synchronous predict: every reason a request is refused, and the champion's answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from driftloop_contracts import DataEvent
from driftloop_features import EntityWindows, FieldValue, compute_features
from driftloop_modeling import feature_hashes
from driftloop_scorer.online import RecentEvents
from driftloop_scorer.predicting import PredictRefusedError, predict_event
from driftloop_scorer.serving import ServingTable
from driftloop_spec.validation import validate_data_event

from .helpers import COLUMNS, FRAUD, T0, fitted, served, validated
from .test_loading import catalog

pytestmark = pytest.mark.unit

FIELDS: dict[str, FieldValue] = {
    "amount": 42.5,
    "merchant_category": "grocery",
    "country": "DE",
    "card_country": "DE",
}


def data_event(**fields: Any) -> DataEvent:
    return DataEvent(
        event_id="tx-1",
        occurred_at=T0 + timedelta(hours=1),
        producer="shop",
        dataset="fraud",
        entity_id="card-1",
        fields=FIELDS | fields,
    )


def answer(event: DataEvent, table: ServingTable, recent: RecentEvents | None = None) -> Any:
    specs = catalog()
    if recent is None:
        recent = RecentEvents(specs, max_entities=10, max_events_per_entity=100)
        recent.caught_up = True
    return predict_event(event, specs, table.current, recent, produced_at=T0, trace_id=None)


def champion_table() -> ServingTable:
    table = ServingTable()
    table.install(served(2))
    return table


def test_the_champion_predicts_the_features_of_the_event_after_the_history() -> None:
    specs = catalog()
    history = [validated(n, 1, T0 + timedelta(minutes=n), 10.0 * n) for n in range(5)]
    recent = RecentEvents(specs, max_entities=10, max_events_per_entity=100)
    recent.add(history)
    recent.caught_up = True
    event = data_event()
    made = answer(event, champion_table(), recent)
    windows = EntityWindows(lateness=FRAUD.lateness.events)
    features = compute_features(FRAUD, [*history, event], windows).values[-1:]
    expected = fitted(2).predict_proba(features)[0, 1]
    assert made.scores["true"] == pytest.approx(expected)
    assert made.features_hash == feature_hashes(COLUMNS, features)[0]
    assert made.event_id == "prediction:fraud:2:tx-1"
    assert (made.subject_event_id, made.causation_id, made.source_topic) == ("tx-1", "tx-1", None)
    assert made.prediction is bool(expected >= 0.5)


@pytest.mark.parametrize(
    ("event", "table", "status"),
    [
        (data_event().model_copy(update={"dataset": "nope"}), champion_table(), 404),
        (data_event(amount=-1.0, country=None), champion_table(), 422),
        (data_event(), ServingTable(), 409),
    ],
)
def test_refusals_say_why(event: DataEvent, table: ServingTable, status: int) -> None:
    with pytest.raises(PredictRefusedError) as refused:
        answer(event, table)
    assert refused.value.status == status


def test_windowed_features_before_the_history_is_read_are_refused() -> None:
    recent = RecentEvents(catalog(), max_entities=10, max_events_per_entity=100)
    with pytest.raises(PredictRefusedError) as refused:
        answer(data_event(), champion_table(), recent)
    assert refused.value.status == 503


def test_every_field_problem_is_named_as_ingestion_names_it() -> None:
    fields: dict[str, FieldValue] = {
        "amount": -3,
        "merchant_category": "casino",
        "card_country": 7,
        "channel": None,
    }
    event = data_event().model_copy(update={"fields": fields})
    with pytest.raises(PredictRefusedError) as refused:
        answer(event, champion_table())
    assert refused.value.status == 422
    assert refused.value.reasons == [str(p) for p in validate_data_event(FRAUD, event).problems]
    assert [reason.split(":")[0] for reason in refused.value.reasons] == [
        "amount",
        "merchant_category",
        "country",
        "card_country",
        "channel",
    ]
