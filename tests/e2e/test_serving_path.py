"""The serving path as processes: ingestion → feature → scorer, with the trainer and the registry
putting models into service, on the embedded broker and document store.

A labelled backfill of the fraud spec; the trainer trains version 1 by itself, the registry
promotes it by policy, the scorer serves it: every later data event gets exactly one champion
prediction by version 1. Then the fraud pattern changes and its labels arrive; two retrain
requests at once give one training; version 2 beats version 1 on the recent holdout, is
promoted and swapped in while events flow, and every event of that stream is scored exactly
once, by version 1 or version 2, never by both, never by version 1 after version 2 on the same
partition. A rollback to a version whose stored artifact was tampered with is refused by the
scorer, and version 2 keeps serving. ``driftloop lineage`` tells the story of one event.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId

from driftloop_artifacts import artifact_id_from_uri
from driftloop_cli.simulation import CardTransactions, Transaction, outcome_of
from driftloop_contracts import (
    DATA_TOPIC,
    OUTCOMES_TOPIC,
    PREDICTIONS_TOPIC,
    TRAIN_REQUESTS_TOPIC,
    TrainRequested,
)
from driftloop_runtime import RuntimeSettings, create_mongo_client
from tests.e2e.serving import (
    ServingPath,
    apply_fraud_spec,
    get_json,
    running_serving_path,
    wait_for,
)
from tests.integration.conftest import RunningService
from tests.integration.ingestion.helpers import (
    Record,
    TopicTail,
    driftloop,
    publish_events,
    wait_for_spec,
)
from tests.integration.kafka_helpers import unique
from tests.integration.registry.helpers import client as registry_client

pytestmark = pytest.mark.e2e

BACKFILL = 600  # labelled history: enough for the spec's minimum below
MIN_LABELLED_ROWS = 300
CHANGE_AT = BACKFILL + 200  # the fraud pattern changes after the first served events
AFTER_CHANGE = 500  # labelled events of the new pattern before the retrain
STREAM_RATE = 60.0  # events/s while version 2 is trained and swapped in
TRAINING_TIMEOUT_S = 120.0


@pytest.fixture
def serving_path(
    registry_service: RunningService,
    ingestion_service: RunningService,
    tmp_path: Path,
) -> Iterator[ServingPath]:
    yield from running_serving_path(registry_service, ingestion_service, tmp_path)


@pytest.fixture
async def predictions(registry_service: RunningService) -> AsyncIterator[TopicTail]:
    async with TopicTail(
        registry_service.env["DRIFTLOOP_KAFKA_BOOTSTRAP"], PREDICTIONS_TOPIC
    ) as tail:
        yield tail


async def test_models_are_trained_promoted_served_and_swapped_without_losing_an_event(
    registry_service: RunningService,
    ingestion_service: RunningService,
    serving_path: ServingPath,
    predictions: TopicTail,
) -> None:
    bootstrap = registry_service.env["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    dataset = unique("serve")
    spec_version = await apply_fraud_spec(
        registry_service, dataset, min_labelled_rows=MIN_LABELLED_ROWS
    )
    await wait_for_spec(ingestion_service, dataset, spec_version)
    # event times of the last hours: inside the spec's training window (7 days back from now)
    stream = CardTransactions(
        dataset=dataset,
        fraud_rate=0.1,
        change_at=CHANGE_AT,
        seed=4,
        id_prefix=dataset,
        start=datetime.now(UTC) - timedelta(hours=6),
    )

    # 1. a labelled backfill: the trainer trains version 1 by itself, the policy promotes it
    await publish_events(
        bootstrap, DATA_TOPIC, [t.event for t in stream.take(BACKFILL, labelled=True)]
    )
    model = await wait_for(
        "version 1 to be champion",
        lambda: champion(registry_service, dataset, 1),
        timeout_s=TRAINING_TIMEOUT_S,
    )
    await wait_for(
        "the scorer to serve version 1",
        lambda: serving(serving_path.scorer, dataset, 1),
        timeout_s=30,
    )

    # 2. every later data event gets exactly one champion prediction, by version 1
    served_by_one = stream.take(CHANGE_AT - BACKFILL)
    await publish_events(bootstrap, DATA_TOPIC, [t.event for t in served_by_one])
    first = await champion_predictions(predictions, dataset, served_by_one)
    assert {p["model_version"] for p in first.values()} == {1}

    # 3. the fraud pattern changes; its labels come in as outcomes
    changed = stream.take(AFTER_CHANGE)
    await publish_events(bootstrap, DATA_TOPIC, [t.event for t in changed])
    await publish_events(
        bootstrap, OUTCOMES_TOPIC, [outcome_of(t, timedelta(hours=1)) for t in changed]
    )
    await champion_predictions(predictions, dataset, changed)

    # 4. two retrain requests at once while a stream flows: one training, version 2 swapped in
    done = asyncio.Event()
    flowing = asyncio.create_task(publish_steadily(bootstrap, stream, STREAM_RATE, done))
    try:
        await publish_events(
            bootstrap, TRAIN_REQUESTS_TOPIC, [train_request(dataset, n) for n in (1, 2)]
        )
        await wait_for(
            "version 2 to be champion",
            lambda: champion(registry_service, dataset, 2),
            timeout_s=TRAINING_TIMEOUT_S,
        )
        await wait_for(
            "a prediction by version 2", lambda: predicted_by(predictions, dataset, 2), timeout_s=30
        )
        await asyncio.sleep(2)  # keep the stream flowing past the swap
    finally:
        done.set()
        streamed = await flowing
    around_swap = await champion_predictions(predictions, dataset, streamed)
    assert {p["model_version"] for p in around_swap.values()} == {1, 2}
    assert_swapped_once_per_partition(predictions.records, dataset, streamed)
    runs = await get_json(registry_service, f"/v1/runs?dataset={dataset}")
    assert len(runs) == 2, f"two requests at once should train once: {runs}"

    # 5. a rollback to a tampered version is refused by the scorer; version 2 keeps serving
    await tamper_with_artifact(registry_service, model, version=1)
    async with registry_client(registry_service) as http:
        response = await http.post(
            f"/v1/models/{model}/rollback", json={"alias": "champion", "reason": "test: tampered"}
        )
    response.raise_for_status()
    await wait_for(
        "the scorer to refuse version 1",
        lambda: refused(serving_path.scorer, dataset, 1),
        timeout_s=30,
    )
    after_refusal = stream.take(50)
    await publish_events(bootstrap, DATA_TOPIC, [t.event for t in after_refusal])
    last = await champion_predictions(predictions, dataset, after_refusal)
    assert {p["model_version"] for p in last.values()} == {2}

    # 6. the lineage of an event version 2 scored
    subject = next(s for s, p in around_swap.items() if p["model_version"] == 2)
    story = await lineage(registry_service, subject)
    (told,) = [p for p in story["predictions"] if not p["prediction"]["shadow"]]
    assert told["prediction"]["model_version"] == 2
    assert told["feature_vector"]["features"]
    (version_2,) = [m for m in story["models"] if m["version"] == 2]
    assert version_2["run"]["status"] == "succeeded"
    assert version_2["data_window"]["row_count"] >= MIN_LABELLED_ROWS
    assert [m["alias"] for m in version_2["promotions"]] == ["champion"]


# --- the steps ---


async def champion(registry: RunningService, dataset: str, version: int) -> str | None:
    """The model of ``dataset`` once version ``version`` is its champion."""
    for model in await get_json(registry, "/v1/models"):
        if model.get("dataset") == dataset:
            champion = (model.get("aliases") or {}).get("champion") or {}
            return str(model["name"]) if champion.get("version") == version else None
    return None


async def serving(scorer: RunningService, dataset: str, version: int) -> bool:
    models = await get_json(scorer, "/v1/models")
    champion = (models.get(dataset) or {}).get("champion") or {}
    return bool(champion.get("version") == version)


async def refused(scorer: RunningService, dataset: str, version: int) -> bool:
    models = await get_json(scorer, "/v1/models")
    refusals = (models.get(dataset) or {}).get("refusals") or []
    return any(r.get("version") == version for r in refusals)


def parsed(records: Sequence[Record], dataset: str) -> list[tuple[Record, dict[str, Any]]]:
    found = [(r, json.loads(r.value)) for r in records]
    return [(r, p) for r, p in found if p["dataset"] == dataset]


async def champion_predictions(
    tail: TopicTail, dataset: str, transactions: Sequence[Transaction]
) -> dict[str, dict[str, Any]]:
    """The champion's prediction of each transaction, checked to be exactly one per event."""
    wanted = {t.event.event_id for t in transactions}

    def kept(record: Record) -> bool:
        return bool(record.key) and json.loads(record.value)["subject_event_id"] in wanted

    await tail.collect(kept, expect=len(wanted), timeout_s=60, settle_s=1.0)
    mine = [p for _, p in parsed(tail.records, dataset) if p["subject_event_id"] in wanted]
    champion = [p for p in mine if not p["shadow"]]
    by_subject: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for prediction in champion:
        by_subject[prediction["subject_event_id"]].append(prediction)
    missed = wanted - set(by_subject)
    assert not missed, f"{len(missed)} events got no prediction, e.g. {sorted(missed)[:3]}"
    twice = {s: [p["model_version"] for p in ps] for s, ps in by_subject.items() if len(ps) > 1}
    # a repeat by the same version (at-least-once) has the same event id; two versions do not
    assert all(len(set(vs)) == 1 for vs in twice.values()), f"scored by two champions: {twice}"
    ids = {p["event_id"] for p in champion}
    assert len(ids) == len(wanted), "prediction ids are one per event and version"
    return {s: ps[0] for s, ps in by_subject.items()}


async def predicted_by(tail: TopicTail, dataset: str, version: int) -> bool:
    await tail.collect(lambda r: False, expect=1, timeout_s=0.2)
    return any(p["model_version"] == version for _, p in parsed(tail.records, dataset))


def assert_swapped_once_per_partition(
    records: Sequence[Record], dataset: str, transactions: Sequence[Transaction]
) -> None:
    """On each partition the versions go 1, ..., 1, 2, ..., 2 in log order: no event was
    scored by version 1 after version 2 took over."""
    wanted = {t.event.event_id for t in transactions}
    versions: dict[int, list[int]] = defaultdict(list)
    for record, prediction in parsed(records, dataset):
        if prediction["subject_event_id"] in wanted and not prediction["shadow"]:
            versions[record.partition].append(prediction["model_version"])
    for partition, seen in versions.items():
        assert seen == sorted(seen), f"partition {partition} went back to version 1: {seen}"


def train_request(dataset: str, n: int) -> TrainRequested:
    return TrainRequested(
        event_id=f"train-{dataset}-{n}",
        occurred_at=datetime.now(UTC),
        producer="e2e",
        dataset=dataset,
        reason="manual",
        requested_by=f"tester-{n}",
    )


async def publish_steadily(
    bootstrap: str, stream: CardTransactions, rate: float, done: asyncio.Event
) -> list[Transaction]:
    """Publish the stream's next events at ``rate`` until ``done``; return what was sent."""
    sent: list[Transaction] = []
    while not done.is_set():
        batch = stream.take(max(1, int(rate / 10)))
        await publish_events(bootstrap, DATA_TOPIC, [t.event for t in batch])
        sent += batch
        await asyncio.sleep(0.1)
    return sent


async def tamper_with_artifact(registry: RunningService, model: str, version: int) -> None:
    """Flip bytes of the stored artifact of ``version``, as an attacker with store access would."""
    record = await get_json(registry, f"/v1/models/{model}/versions/{version}")
    file_id = ObjectId(artifact_id_from_uri(record["artifact"]["uri"]))
    settings = RuntimeSettings(
        mongo_uri=registry.env["DRIFTLOOP_MONGO_URI"],
        mongo_database=registry.env["DRIFTLOOP_MONGO_DATABASE"],
    )
    async with create_mongo_client(settings, appname="e2e-tamper") as client:
        chunks = client[settings.mongo_database]["artifacts.chunks"]
        chunk = await chunks.find_one({"files_id": file_id, "n": 0})
        assert chunk is not None, f"no stored chunk of {record['artifact']['uri']}"
        data = bytearray(chunk["data"])
        data[len(data) // 2] ^= 0xFF
        await chunks.update_one({"_id": chunk["_id"]}, {"$set": {"data": bytes(data)}})


async def lineage(registry: RunningService, event_id: str) -> dict[str, Any]:
    env_args = (
        "lineage",
        event_id,
        "--json",
        "--registry-url",
        registry.url,
        "--token",
        registry.approver_token,
    )
    result = await asyncio.to_thread(
        driftloop, registry.env["DRIFTLOOP_KAFKA_BOOTSTRAP"], *env_args
    )
    assert result.exit_code == 0, result.output
    story: dict[str, Any] = json.loads(result.stdout)
    return story
