"""The monitor's loop in-process on the real broker and store, with a counting stand-in for
the domain: positions and state are checkpointed together, a second loop resumes from the
checkpoint without reading an event twice, and bad records are dead-lettered."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from driftloop_contracts import DEAD_LETTER_TOPIC, FEATURES_TOPIC, DeadLettered
from driftloop_monitor import monitors as monitors_module
from driftloop_monitor.checkpoints import CheckpointStore
from driftloop_monitor.config import MonitorSettings
from driftloop_monitor.consumer import MonitorLoop
from driftloop_monitor.monitoring import MonitorPolicy, ServingModel
from driftloop_monitor.monitors import Monitors
from driftloop_monitor.references import ReferenceBook
from driftloop_runtime import KafkaEventPublisher, ModelCatalog, SpecCatalog, create_mongo_client
from driftloop_spec import DatasetSpec
from tests.integration.feature.stream import fraud_spec
from tests.integration.kafka_helpers import produce, unique
from tests.integration.monitor.stream import (
    Stream,
    lifecycle,
    publish_stream,
)
from tests.integration.scorer.helpers import read_until

pytestmark = pytest.mark.integration


class CountingMonitor:
    """Counts what it is fed; its whole state is the counts."""

    def __init__(self, spec: DatasetSpec, policy: MonitorPolicy) -> None:
        self._spec, self.counts = spec, {"vectors": 0, "predictions": 0, "outcomes": 0}
        self.champion: int | None = None

    @property
    def spec(self) -> DatasetSpec:
        return self._spec

    def apply_spec(self, spec: DatasetSpec) -> None:
        self._spec = spec

    def serve(self, champion: ServingModel | None, shadow: ServingModel | None) -> None:
        self.champion = champion.version if champion else None

    def observe_vectors(self, vectors: Sequence[Any]) -> None:
        self.counts["vectors"] += len(vectors)

    def observe_predictions(self, predictions: Sequence[Any]) -> None:
        self.counts["predictions"] += len(predictions)

    def observe_outcomes(self, outcomes: Sequence[Any]) -> None:
        self.counts["outcomes"] += len(outcomes)

    def drain(self) -> list[Any]:
        return []

    def counters(self) -> dict[str, int]:
        return dict(self.counts)

    def status(self) -> dict[str, Any]:
        return {"champion": self.champion}

    def to_checkpoint(self) -> dict[str, Any]:
        return {"counts": dict(self.counts)}

    @classmethod
    def from_checkpoint(
        cls, spec: DatasetSpec, policy: MonitorPolicy, document: Mapping[str, Any]
    ) -> CountingMonitor:
        monitor = cls(spec, policy)
        monitor.counts = dict(document["counts"])
        return monitor


async def run_until(loop: MonitorLoop, dataset: str, events: int) -> dict[str, int]:
    """Run ``loop`` until its monitor of ``dataset`` was fed ``events`` vectors, predictions
    and labels each (the three topics are read in any order); stop it."""
    stopping = asyncio.Event()
    task = asyncio.create_task(loop.run(stopping))
    try:
        for _ in range(600):
            monitor = loop.monitors.get(dataset)
            if monitor is not None and min(monitor.counters().values()) >= events:
                break
            await asyncio.sleep(0.1)
    finally:
        stopping.set()
        await task
    monitor = loop.monitors.get(dataset)
    assert monitor is not None
    return monitor.counters()


async def test_a_second_loop_resumes_from_the_first_ones_checkpoint(
    infra: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(monitors_module, "DatasetMonitor", CountingMonitor)
    bootstrap = infra["DRIFTLOOP_KAFKA_BOOTSTRAP"]
    settings = MonitorSettings(
        kafka_bootstrap=bootstrap,
        mongo_uri=infra["DRIFTLOOP_MONGO_URI"],
        mongo_database=unique("monitor"),
        checkpoint_interval_s=3600,  # only the checkpoint on stopping
    )
    spec, applied = fraud_spec(unique("cards"))
    stream = Stream(spec, 300, 300)
    specs, models, book = SpecCatalog(), ModelCatalog(), ReferenceBook()
    specs.apply(applied)
    for _, event in lifecycle(stream, 1, stream.when(0)):
        if event.event_type == "model.promoted":
            models.apply(event)  # type: ignore[arg-type]
    vectors, predictions, outcomes = stream.events()
    marker = unique("broken")
    await produce(bootstrap, FEATURES_TOPIC, [(b"k", f'{{"m":"{marker}"}}'.encode(), [])])
    await publish_stream(bootstrap, vectors[:100], predictions[:100], outcomes[:100])

    publisher = KafkaEventPublisher(settings, client_id="monitor-test")
    await publisher.start()

    async def nothing() -> None:
        return None

    try:
        async with create_mongo_client(settings, appname="tests") as client:
            store = CheckpointStore(client[settings.mongo_database])

            def loop() -> MonitorLoop:
                held = Monitors(settings.policy(), specs, models, book, nothing)
                return MonitorLoop(settings, held, publisher, store)

            first = await run_until(loop(), spec.name, 100)
            await publish_stream(bootstrap, vectors[100:], predictions[100:], outcomes[100:])
            second = loop()
            counts = await run_until(second, spec.name, 300)
    finally:
        await publisher.stop()

    assert first == {"vectors": 100, "predictions": 100, "outcomes": 100}
    assert counts == {"vectors": 300, "predictions": 300, "outcomes": 300}
    assert store.saved == 2
    assert second.consumed[FEATURES_TOPIC] >= 300
    letters = await read_until(
        bootstrap, DEAD_LETTER_TOPIC, DeadLettered, marker.encode(), lambda f: len(f) >= 1
    )
    assert letters[0].source_topic == FEATURES_TOPIC
    assert "does not match FeaturesComputed" in letters[0].reason
