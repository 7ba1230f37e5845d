"""The feature service on the embedded stack: vectors, the offline store, restarts."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from driftloop_cli.local.processes import stop
from driftloop_contracts import (
    DATA_VALIDATED_TOPIC,
    FEATURES_TOPIC,
    OUTCOMES_VALIDATED_TOPIC,
    SPECS_TOPIC,
    FeaturesComputed,
)
from driftloop_features import EntityWindows, compute_features
from driftloop_offline import LABEL, SUBJECT, LabelJoin, OfflineReader, OfflineWriter
from driftloop_runtime import RuntimeSettings, create_mongo_client
from driftloop_runtime.mongo import Document
from driftloop_spec import DatasetSpec
from tests.integration.conftest import start_service
from tests.integration.feature.stream import (
    fraud_spec,
    outcome,
    publish,
    transactions,
)
from tests.integration.kafka_helpers import read_all, unique

pytestmark = pytest.mark.integration


class FeatureService:
    """A feature service process with its own consumer group and database."""

    def __init__(self, infra: dict[str, str], home: Path) -> None:
        self.database = f"feature_{secrets.token_hex(4)}"
        self.env = {
            **os.environ,
            **infra,
            "DRIFTLOOP_MONGO_DATABASE": self.database,
            "DRIFTLOOP_CONSUMER_GROUP": unique("feature"),
            "DRIFTLOOP_TRACES_FILE": str(home / "traces.jsonl"),
        }
        self.log = home / "feature.log"
        self.pid = 0

    def start(self) -> None:
        self.pid, _ = start_service("driftloop_feature", self.env, self.log)

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        stop(self.pid)  # reaps it

    def settings(self) -> RuntimeSettings:
        return RuntimeSettings(
            mongo_uri=self.env["DRIFTLOOP_MONGO_URI"], mongo_database=self.database
        )


@pytest.fixture
async def service(infra: dict[str, str], tmp_path: Path) -> AsyncIterator[FeatureService]:
    running = FeatureService(infra, tmp_path)
    try:
        yield running
    finally:
        if running.pid:
            stop(running.pid)


async def vectors_of(
    bootstrap: str, dataset: str, until: Callable[[list[FeaturesComputed]], bool]
) -> list[FeaturesComputed]:
    """Every feature vector of ``dataset`` on the features topic, once ``until`` holds."""
    for _ in range(120):
        records = await read_all(bootstrap, FEATURES_TOPIC, expect=10**7, timeout_s=1)
        vectors = [FeaturesComputed.model_validate_json(r.value) for r in records]
        mine = [v for v in vectors if v.dataset == dataset]
        if until(mine):
            return mine
        await asyncio.sleep(0.5)
    raise AssertionError(f"only {len(mine)} vectors of {dataset}")


async def offline_rows(
    database: AsyncDatabase[Document], spec: DatasetSpec, until: Callable[[pd.DataFrame], bool]
) -> pd.DataFrame:
    """The labelled rows of ``spec``'s dataset in the offline store, as training reads them,
    once ``until`` holds for them."""
    reader = OfflineReader(database, max_rows=10_000)
    join, span = LabelJoin.of(spec.lateness), timedelta(seconds=spec.training.window)
    for _ in range(120):
        frame = await reader.window(spec.name, spec.feature_columns(), join, span)
        if until(frame):
            return frame
        await asyncio.sleep(0.5)
    raise AssertionError(f"only {len(frame)} labelled rows of {spec.name}")


def expected_values(dataset: str, count: int, cards: int) -> dict[str, list[float]]:
    """What an uninterrupted computation over the whole stream gives, by subject event id."""
    spec, _ = fraud_spec(dataset)
    stream = transactions(dataset, count, cards)
    computed = compute_features(spec, stream, EntityWindows())
    return {e.subject_event_id: computed.values[i].tolist() for i, e in enumerate(stream)}


async def test_every_event_gets_one_vector_and_labelled_rows_land_in_the_offline_store(
    infra: dict[str, str], service: FeatureService
) -> None:
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    dataset = unique("cards")
    spec, applied = fraud_spec(dataset)
    stream = transactions(dataset, 400, cards=20)
    early = [outcome(e, True) for n, e in enumerate(stream) if n % 5 == 1]
    late = [outcome(e, False) for n, e in enumerate(stream) if n % 5 == 2]
    await publish(bootstrap, SPECS_TOPIC, [applied])
    await publish(bootstrap, OUTCOMES_VALIDATED_TOPIC, early)  # labels before their events
    await publish(bootstrap, DATA_VALIDATED_TOPIC, stream)
    service.start()

    vectors = await vectors_of(
        bootstrap, dataset, lambda v: len({x.subject_event_id for x in v}) >= 400
    )
    await publish(bootstrap, OUTCOMES_VALIDATED_TOPIC, late)  # labels after their rows

    expected = expected_values(dataset, 400, 20)
    by_subject = {v.subject_event_id: v for v in vectors}
    assert len(by_subject) == 400
    assert all(v.values == expected[v.subject_event_id] for v in vectors)
    assert all(v.feature_names == list(spec.feature_columns()) for v in vectors)
    assert all(v.event_id == f"features:{v.subject_event_id}" for v in vectors)

    columns = list(spec.feature_columns())
    wanted = {  # inline (every 5th), early (n % 5 == 1) and late (n % 5 == 2); none for the rest
        e.subject_event_id: {0: n % 10 == 0, 1: True, 2: False}[n % 5]
        for n, e in enumerate(stream)
        if n % 5 < 3
    }
    mongo = create_mongo_client(service.settings(), appname="tests")
    try:
        database = mongo[service.database]
        labelled = await offline_rows(database, spec, lambda f: len(f) >= len(wanted))
        # The rows left unlabelled are read only once labelled: label them here, in the store.
        rest = [outcome(e, True) for n, e in enumerate(stream) if n % 5 >= 3]
        writer = OfflineWriter(database, label_wait=timedelta(days=7))
        await writer.add_labels(rest, datetime.now(UTC))
        every = await offline_rows(database, spec, lambda f: len(f) >= len(stream))
    finally:
        await mongo.close()
    assert dict(zip(labelled[SUBJECT], labelled[LABEL], strict=True)) == wanted
    assert sorted(every[SUBJECT]) == sorted(expected)  # every served row, each stored once
    for subject, *values in every[[SUBJECT, *columns]].itertuples(index=False):
        assert values == expected[subject]  # exactly what was served


async def test_a_killed_feature_service_restarts_to_the_same_features(
    infra: dict[str, str], service: FeatureService
) -> None:
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    dataset = unique("cards")
    spec, applied = fraud_spec(dataset)
    await publish(bootstrap, SPECS_TOPIC, [applied])
    stream = transactions(dataset, 3000, cards=50)
    labels = [outcome(e, n % 3 == 0) for n, e in enumerate(stream)]
    await publish(bootstrap, DATA_VALIDATED_TOPIC, stream[:1500])
    await publish(bootstrap, OUTCOMES_VALIDATED_TOPIC, labels[:1500])
    service.start()
    await vectors_of(bootstrap, dataset, lambda v: len({x.subject_event_id for x in v}) >= 1500)
    service.kill()  # mid-stream: its windows and its offline writers' batches are gone with it
    await publish(bootstrap, DATA_VALIDATED_TOPIC, stream[1500:])
    await publish(bootstrap, OUTCOMES_VALIDATED_TOPIC, labels[1500:])
    service.start()  # must rebuild the windows from the log before it serves the rest

    vectors = await vectors_of(
        bootstrap, dataset, lambda v: len({x.subject_event_id for x in v}) >= 3000
    )
    expected = expected_values(dataset, 3000, 50)
    mismatched = [v.subject_event_id for v in vectors if v.values != expected[v.subject_event_id]]
    assert mismatched == []
    # at-least-once: a vector served twice carries the same id (and, above, the same values)
    assert {v.event_id for v in vectors} == {f"features:{s}" for s in expected}

    # The offline store: every row once, with exactly the served values and its label.
    mongo = create_mongo_client(service.settings(), appname="tests")
    try:
        database = mongo[service.database]
        stored = await offline_rows(database, spec, lambda f: len(f) >= len(stream))
    finally:
        await mongo.close()
    assert len(stored) == len(stream)
    assert set(stored[SUBJECT]) == set(expected)
    assert dict(zip(stored[SUBJECT], stored[LABEL], strict=True)) == {
        e.subject_event_id: n % 3 == 0 for n, e in enumerate(stream)
    }
    columns = list(spec.feature_columns())
    for subject, *values in stored[[SUBJECT, *columns]].itertuples(index=False):
        assert values == expected[subject]
