"""The downstream side of the demo: a consumer of champion predictions, and a watcher of the
loop's control topics (drift, trainings, registrations, promotions)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from pydantic import ValidationError

from driftloop_cli.demo.model import LoopContract, LoopEvent, LoopEventKind, SeenPrediction
from driftloop_contracts import (
    DRIFT_TOPIC,
    MODELS_PROMOTED_TOPIC,
    MODELS_REGISTERED_TOPIC,
    PREDICTIONS_TOPIC,
    TRAININGS_TOPIC,
    DriftDetected,
    ModelPromoted,
    ModelRegistered,
    PredictionMade,
    TrainingCompleted,
)
from driftloop_runtime import RuntimeSettings
from driftloop_runtime.kafka import client_options

__all__ = ["LOOP_TOPICS", "Downstream", "cancel"]

LOOP_TOPICS: dict[str, tuple[LoopEventKind, type[LoopContract]]] = {
    DRIFT_TOPIC: ("drift", DriftDetected),
    TRAININGS_TOPIC: ("training", TrainingCompleted),
    MODELS_REGISTERED_TOPIC: ("registered", ModelRegistered),
    MODELS_PROMOTED_TOPIC: ("promoted", ModelPromoted),
}
POSITIVE = "true"  # the scorer's key of the positive class of a bool label


class Downstream:
    """Reads predictions and the loop's topics of one dataset from their beginning (no consumer
    group: it only watches), keeping champion predictions of the live stream's events."""

    def __init__(
        self,
        settings: RuntimeSettings,
        dataset: str,
        live_ids: Mapping[str, int],
        position: Callable[[], int],
    ) -> None:
        """Watch ``dataset``; ``live_ids`` maps the live stream's event ids to their positions
        (filled while it plays) and ``position()`` says how many were published so far."""
        self._settings, self._dataset = settings, dataset
        self._live_ids, self._position = live_ids, position
        self.predictions: dict[str, SeenPrediction] = {}
        self.loop_events: list[LoopEvent] = []
        self.champion: int | None = None
        """Version of the latest champion promotion seen."""
        self.scored_versions: set[int] = set()

    async def run(self) -> None:
        """Read until cancelled."""
        consumer = AIOKafkaConsumer(**client_options(self._settings), enable_auto_commit=False)
        await consumer.start()
        try:
            await self._assign(consumer)
            while True:
                fetched = await consumer.getmany(timeout_ms=200, max_records=5_000)
                now = time.time()
                # across topics in record-time order, so a training is seen before its
                # registration even when both arrive in one fetch
                records = (record for batch in fetched.values() for record in batch)
                for record in sorted(records, key=_timestamp):
                    self.take(record, now)
        finally:
            await consumer.stop()

    async def _assign(self, consumer: AIOKafkaConsumer) -> None:
        await consumer.topics()
        partitions = [
            TopicPartition(topic, p)
            for topic in (PREDICTIONS_TOPIC, *LOOP_TOPICS)
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)

    def take(self, record: ConsumerRecord[Any, Any], now: float) -> None:
        """Keep what ``record`` (read at ``now``) tells: a champion prediction of a live
        transaction, or a loop event of the dataset."""
        try:
            if record.topic == PREDICTIONS_TOPIC:
                self._prediction(PredictionMade.model_validate_json(record.value), now)
            else:
                self._loop_event(record, now)
        except ValidationError:
            pass  # not ours to judge: the services dead-letter what breaks a contract

    def _prediction(self, made: PredictionMade, now: float) -> None:
        if made.shadow or made.dataset != self._dataset:
            return  # a downstream system acts on champion predictions only
        self.scored_versions.add(made.model_version)
        event_id = made.subject_event_id
        if event_id in self._live_ids and event_id not in self.predictions:
            score = (made.scores or {}).get(POSITIVE, float(made.prediction is True))
            self.predictions[event_id] = SeenPrediction(event_id, made.model_version, score, now)

    def _loop_event(self, record: ConsumerRecord[Any, Any], now: float) -> None:
        kind, contract = LOOP_TOPICS[record.topic]
        event = contract.model_validate_json(record.value)
        if event.dataset != self._dataset:
            return
        if isinstance(event, ModelPromoted) and event.alias == "champion":
            self.champion = event.version
        stamp = record.timestamp / 1000
        self.loop_events.append(LoopEvent(kind, event, stamp, now, self._position()))

    def count(self, kind: LoopEventKind) -> int:
        """How many loop events of ``kind`` were seen."""
        return sum(1 for item in self.loop_events if item.kind == kind)


def _timestamp(record: ConsumerRecord[Any, Any]) -> int:
    stamp: int = record.timestamp
    return stamp


async def cancel(task: asyncio.Task[None]) -> None:
    """Cancel ``task`` and wait for it, re-raising what it died of (other than cancellation)."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
