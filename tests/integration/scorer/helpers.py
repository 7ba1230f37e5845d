"""What the scorer consumes, built and published the way the other services would."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import numpy as np
from aiokafka import AIOKafkaConsumer
from sklearn.linear_model import LogisticRegression

from driftloop_artifacts import GridFSArtifactStore, StoredArtifact, encode_model, key_from_secret
from driftloop_contracts import (
    DATA_VALIDATED_TOPIC,
    FEATURES_TOPIC,
    MODELS_PROMOTED_TOPIC,
    PREDICTIONS_TOPIC,
    SPECS_TOPIC,
    DataValidated,
    Event,
    FeaturesComputed,
    ModelPromoted,
    PredictionMade,
)
from driftloop_features import EntityWindows, compute_features
from driftloop_runtime import RuntimeSettings, create_mongo_client
from driftloop_spec import DatasetSpec
from tests.integration.conftest import RunningService
from tests.integration.feature.stream import fraud_spec, publish, transactions
from tests.integration.kafka_helpers import produce

E = TypeVar("E", bound=Event)


def fitted(columns: int, seed: int) -> LogisticRegression:
    """A small classifier over ``columns`` features (classes False/True)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(300, columns))
    return LogisticRegression().fit(x, x[:, 0] + x[:, seed % columns] > 0)


async def store_model(scorer: RunningService, dataset: str, version: int) -> StoredArtifact:
    """Fit version ``version`` of ``dataset``'s model and store it in the scorer's GridFS."""
    spec, _ = fraud_spec(dataset)
    key = key_from_secret(scorer.env["DRIFTLOOP_ARTIFACT_SIGNING_KEY"])
    artifact = encode_model(fitted(len(spec.feature_columns()), version), signing_key=key)
    settings = RuntimeSettings(
        mongo_uri=scorer.env["DRIFTLOOP_MONGO_URI"],
        mongo_database=scorer.env["DRIFTLOOP_MONGO_DATABASE"],
    )
    async with create_mongo_client(settings, appname="tests") as mongo:
        store = GridFSArtifactStore(mongo[settings.mongo_database])
        return await store.put(artifact, name=dataset, version=version)


async def apply_spec(bootstrap: str, dataset: str) -> DatasetSpec:
    """Broadcast the fraud spec as ``dataset``'s version 1."""
    spec, applied = fraud_spec(dataset)
    await publish(bootstrap, SPECS_TOPIC, [applied])
    return spec


async def promote(
    bootstrap: str, stored: StoredArtifact, alias: str = "champion", **changes: Any
) -> ModelPromoted:
    """Publish the registry's ``model promoted`` for ``stored``, happening now."""
    event = ModelPromoted.example().model_copy(
        update={
            "event_id": f"model.promoted:{stored.name}:{stored.version}:{alias}:1",
            "occurred_at": datetime.now(UTC),
            "dataset": stored.name,
            "model_name": stored.name,
            "version": stored.version,
            "artifact_sha256": stored.sha256,
            "artifact_uri": stored.uri,
            "alias": alias,
            "previous_version": None,
            **changes,
        }
    )
    value = event.model_dump_json().encode()
    await produce(bootstrap, MODELS_PROMOTED_TOPIC, [(stored.name.encode(), value, [])])
    return event


def vectors(spec: DatasetSpec, events: list[DataValidated]) -> list[FeaturesComputed]:
    """The feature service's vectors for ``events`` (computed in order from empty windows)."""
    computed = compute_features(spec, events, EntityWindows(lateness=spec.lateness.events))
    return [
        FeaturesComputed(
            event_id=f"features:{event.subject_event_id}",
            occurred_at=event.occurred_at,
            producer="feature",
            causation_id=event.event_id,
            dataset=event.dataset,
            entity_id=event.entity_id,
            subject_event_id=event.subject_event_id,
            spec_version=1,
            feature_names=list(computed.columns),
            values=computed.values[row].tolist(),
            source_topic=DATA_VALIDATED_TOPIC,
            source_partition=0,
            source_offset=row,
        )
        for row, event in enumerate(events)
    ]


def stream(spec: DatasetSpec, count: int, seed: int = 7) -> list[FeaturesComputed]:
    """``count`` feature vectors of ``spec``'s dataset over 20 cards."""
    return vectors(spec, transactions(spec.name, count, cards=20, seed=seed))


async def publish_vectors(bootstrap: str, batch: list[FeaturesComputed]) -> None:
    await produce(
        bootstrap,
        FEATURES_TOPIC,
        [(v.entity_id.encode(), v.model_dump_json().encode(), []) for v in batch],
    )


async def read_until(
    bootstrap: str,
    topic: str,
    contract: type[E],
    containing: bytes,
    until: Callable[[list[E]], bool],
    timeout_s: float = 120,
) -> list[E]:
    """The events of ``topic`` whose bytes hold ``containing``, once ``until`` holds: one reader
    from the topic's start that keeps what it read (the topics grow over a session)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    found: list[E] = []
    await consumer.start()
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while asyncio.get_running_loop().time() < deadline:
            fetched = await consumer.getmany(timeout_ms=500)
            values = [r.value for batch in fetched.values() for r in batch]
            found += [contract.model_validate_json(v) for v in values if containing in v]
            if until(found):
                return found
    finally:
        await consumer.stop()
    raise AssertionError(f"only {len(found)} {contract.__name__} on {topic}")


async def predictions_of(
    bootstrap: str, dataset: str, until: Callable[[list[PredictionMade]], bool]
) -> list[PredictionMade]:
    """Every prediction of ``dataset``, once ``until`` holds."""
    needle = f'"dataset":"{dataset}"'.encode()
    return await read_until(bootstrap, PREDICTIONS_TOPIC, PredictionMade, needle, until)


async def get_json(
    scorer: RunningService, path: str, until: Callable[[Any], bool], timeout_s: float = 30
) -> Any:
    """GET ``path`` until it answers 200 with a body for which ``until(body)`` holds; return
    that body (a 404 while a service has not taken something on yet is waited out)."""
    async with httpx.AsyncClient(base_url=scorer.url, timeout=10) as http:
        for _ in range(int(timeout_s * 5)):
            response = await http.get(path)
            body = response.json()
            if response.status_code == 200 and until(body):
                return body
            await asyncio.sleep(0.2)
    raise AssertionError(f"{path} never satisfied the condition; last: {body}")
