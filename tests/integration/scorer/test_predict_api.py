"""POST /v1/predict on the embedded stack: the champion's answer over the history read from
the validated data topic, and every refusal with its status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from driftloop_contracts import DATA_VALIDATED_TOPIC, DataEvent
from driftloop_features import EntityWindows, FieldValue, compute_features
from driftloop_modeling import feature_hashes
from tests.integration.conftest import RunningService
from tests.integration.feature.stream import publish, transactions
from tests.integration.kafka_helpers import unique
from tests.integration.scorer.helpers import apply_spec, get_json
from tests.integration.scorer.test_scorer_service import with_champion

pytestmark = pytest.mark.integration


FIELDS: dict[str, FieldValue] = {
    "amount": 120.0,
    "merchant_category": "travel",
    "country": "US",
    "card_country": "FR",
}


def request_for(dataset: str, entity_id: str, at: datetime) -> DataEvent:
    return DataEvent(
        event_id=unique("req"),
        occurred_at=at,
        producer="checkout",
        dataset=dataset,
        entity_id=entity_id,
        fields=FIELDS,
    )


async def post(scorer: RunningService, *events: DataEvent) -> list[httpx.Response]:
    json = {"Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=scorer.url, timeout=10, headers=json) as http:
        return [await http.post("/v1/predict", content=e.model_dump_json()) for e in events]


async def test_predict_answers_with_the_features_the_feature_service_computes(
    infra: dict[str, str], scorer_service: RunningService
) -> None:
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    spec = await with_champion(bootstrap, scorer_service)
    history = transactions(spec.name, 120, cards=5)
    await publish(bootstrap, DATA_VALIDATED_TOPIC, history)
    await get_json(
        scorer_service,
        "/v1/stats",
        lambda b: b["predict_state"]["entities"].get(spec.name) == 5,
    )
    last = history[-1]
    event = request_for(spec.name, last.entity_id, last.occurred_at + timedelta(seconds=30))
    answer, again = await post(scorer_service, event, event)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    # what the feature service computes for this event arriving after the same history
    windows = EntityWindows(lateness=spec.lateness.events)
    served = compute_features(spec, [*history, event], windows).values[-1:]
    assert body["features_hash"] == feature_hashes(list(spec.feature_columns()), served)[0]
    assert body["event_id"] == f"prediction:{spec.name}:1:{event.event_id}"
    assert (body["model_version"], body["shadow"], body["source_topic"]) == (1, False, None)
    assert again.json()["features_hash"] == body["features_hash"]  # the request changed nothing


async def test_predict_refuses_with_a_status_and_every_reason(
    infra: dict[str, str], scorer_service: RunningService
) -> None:
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    served = await with_champion(bootstrap, scorer_service)
    bare = await apply_spec(bootstrap, unique("cards"))
    await get_json(scorer_service, "/v1/stats", lambda b: bare.name in b["specs"])
    good = request_for(served.name, "card-1", datetime.now(UTC))
    bad = good.model_copy(update={"fields": {"amount": -5.0, "merchant_category": "casino"}})
    cases = [
        (good.model_copy(update={"dataset": unique("nospec")}), 404),
        (bad, 422),
        (good.model_copy(update={"dataset": bare.name}), 409),
    ]
    answers = await post(scorer_service, *(event for event, _ in cases))
    async with httpx.AsyncClient(base_url=scorer_service.url, timeout=10) as http:
        broken = await http.post("/v1/predict", json={"event_id": "x"})
    assert [a.status_code for a in answers] == [status for _, status in cases]
    assert answers[1].json()["detail"] == [
        "amount: -5.0 is below the minimum 0.0",
        'merchant_category: "casino" is not one of ["grocery", "restaurant", "travel", '
        '"electronics", "fuel", "online_retail", "entertainment", "health"]',
        "country: missing (required)",
        "card_country: missing (required)",
    ]
    assert broken.status_code == 422
