"""The monitor's loop: fetch the three input topics, observe, publish, checkpoint.

One group-less consumer is assigned every partition of the feature, prediction and outcome
topics. Its positions are not a consumer group's: they are saved in the monitor's checkpoint
with the state that reflects them, so a restart resumes exactly where the state stands —
nothing lost, nothing counted twice. Reports are published (and acknowledged) before the
checkpoint that covers them: a crash in between publishes them again after the restart, with
the same deterministic ids, which consumers de-duplicate. Drift alarms go the other way (an
outbox): the checkpoint that covers their batch holds them first, then they are published. A
replay of a batch may read the three topics in another order and place a change elsewhere, so
an alarm published before a crash must come back from the checkpoint, not be recomputed under
another id.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from driftloop_contracts import (
    DRIFT_TOPIC,
    FEATURES_TOPIC,
    OUTCOMES_VALIDATED_TOPIC,
    PERFORMANCE_TOPIC,
    PREDICTIONS_TOPIC,
    DriftDetected,
)
from driftloop_monitor.checkpoints import CheckpointStore
from driftloop_monitor.config import MonitorSettings
from driftloop_monitor.inputs import INPUTS, DatasetBatch, route
from driftloop_monitor.monitoring import DatasetMonitor
from driftloop_monitor.monitors import Monitors
from driftloop_monitor.tracing import batch_span, drift_span
from driftloop_runtime import (
    TRANSIENT_ERRORS,
    EventPublisher,
    Outgoing,
    Rejection,
    SourceRecord,
    dead_letter,
)
from driftloop_runtime.kafka import client_options

__all__ = ["MonitorLoop"]

logger = logging.getLogger(__name__)

CHECKPOINT_FORMAT = 1

# the records behind each kind of alarm, which its span links to
_ALARM_INPUTS = {
    "data": (FEATURES_TOPIC,),
    "prediction": (PREDICTIONS_TOPIC,),
    "performance": (PREDICTIONS_TOPIC, OUTCOMES_VALIDATED_TOPIC),
}


class MonitorLoop:
    """Reads, observes, publishes and checkpoints until told to stop."""

    def __init__(
        self,
        settings: MonitorSettings,
        monitors: Monitors,
        publisher: EventPublisher,
        checkpoints: CheckpointStore,
    ) -> None:
        self._settings = settings
        self.monitors = monitors
        self._publisher = publisher
        self._checkpoints = checkpoints
        self.positions: dict[TopicPartition, int] = {}
        self.consumed: Counter[str] = Counter()
        self.dead_lettered: Counter[str] = Counter()
        self.published: Counter[str] = Counter()
        self.ready = asyncio.Event()
        self._unpublished: list[DriftDetected] = []

    async def run(self, stopping: asyncio.Event) -> None:
        """Resume from the checkpoint and consume until ``stopping`` is set; then write the
        last checkpoint."""
        await self._restore()
        consumer = AIOKafkaConsumer(
            **client_options(self._settings),
            client_id="driftloop-monitor",
            enable_auto_commit=False,
            auto_offset_reset="earliest",  # a position before the log's start: its start
            fetch_max_wait_ms=self._settings.kafka_background_fetch_max_wait_ms,
        )
        await consumer.start()
        try:
            await self._assign(consumer)
            await self._publish_unpublished()
            self.ready.set()
            await self._consume(consumer, stopping)
        finally:
            await consumer.stop()

    async def _consume(self, consumer: AIOKafkaConsumer, stopping: asyncio.Event) -> None:
        interval = self._settings.checkpoint_interval_s
        last_checkpoint = time.monotonic()
        dirty = False
        while not stopping.is_set():
            fetched = await consumer.getmany(
                timeout_ms=self._settings.poll_timeout_ms,
                max_records=self._settings.poll_max_records,
            )
            if fetched:
                await self._process(fetched)
                dirty = True
            else:  # an idle stream still shows a promotion (and resets to it) between batches
                dirty |= self.monitors.serve_all()
            if dirty and time.monotonic() - last_checkpoint >= interval:
                dirty = not await self._checkpoint()
                last_checkpoint = time.monotonic()
        if dirty:
            await self._checkpoint()

    async def _assign(self, consumer: AIOKafkaConsumer) -> None:
        await consumer.topics()  # loads the metadata partitions_for_topic reads
        partitions = []
        for topic in INPUTS:
            found = consumer.partitions_for_topic(topic)
            if not found:
                raise RuntimeError(f"topic {topic} does not exist: create the topics first")
            partitions += [TopicPartition(topic, p) for p in sorted(found)]
        consumer.assign(partitions)
        for tp in partitions:
            if tp in self.positions:
                consumer.seek(tp, self.positions[tp])
            else:
                await consumer.seek_to_beginning(tp)

    async def _process(self, fetched: dict[TopicPartition, list[Any]]) -> None:
        batches, rejected = route(fetched)
        count = sum(len(records) for records in fetched.values())
        sources = [s for batch in batches.values() for ss in batch.sources.values() for s in ss]
        outputs: list[Outgoing] = []
        drifts: list[tuple[DriftDetected, Sequence[SourceRecord]]] = []
        with batch_span(count, sources):
            for dataset, batch in batches.items():
                predicted = bool(batch.predictions)
                monitor = await self.monitors.ready(dataset, len(batch), predicted=predicted)
                if monitor is None:
                    continue
                rejected += _observe(monitor, batch)
                for event in monitor.drain():
                    if isinstance(event, DriftDetected):
                        drifts.append((event, _alarm_sources(event, batch)))
                    else:
                        outputs.append(Outgoing(PERFORMANCE_TOPIC, event.dataset, event))
        letters = [
            dead_letter(r, service="monitor", consumer_group=self._settings.consumer_group)
            for r in rejected
        ]
        for tp, records in fetched.items():
            if records:
                self.positions[tp] = records[-1].offset + 1
                self.consumed[tp.topic] += len(records)
        for rejection in rejected:
            self.dead_lettered[rejection.source.topic] += 1
        if drifts:  # the outbox: saved with the batch's state before it is published
            await self._checkpoint_outbox([event for event, _ in drifts])
        await self._publish([*outputs, *letters], drifts)
        self._unpublished = []

    async def _publish(
        self,
        outputs: list[Outgoing],
        drifts: list[tuple[DriftDetected, Sequence[SourceRecord]]],
    ) -> None:
        """Publish until acknowledged: the state already holds the batch, so it cannot be
        read again; a broker that is down is waited for (a crash meanwhile replays the batch
        from the last checkpoint, with the same ids)."""
        for event, sources in drifts:
            attributes: dict[str, str | int] = {
                "driftloop.kind": event.kind,
                "driftloop.signal": event.signal,
                "driftloop.detector": event.detector,
                "driftloop.model_version": event.model_version,
                "driftloop.event_id": event.event_id,
            }
            with drift_span(event.dataset, attributes, sources):
                await self._retrying([Outgoing(DRIFT_TOPIC, event.dataset, event)])
            logger.warning(
                "drift detected: %s %s %s on %s v%s (%s)",
                event.dataset,
                event.kind,
                event.detector,
                event.signal,
                event.model_version,
                event.event_id,
            )
        if outputs:
            await self._retrying(outputs)
        self.published["drift"] += len(drifts)
        self.published["performance"] += sum(o.topic == PERFORMANCE_TOPIC for o in outputs)

    async def _checkpoint_outbox(self, alarms: list[DriftDetected]) -> None:
        self._unpublished = alarms
        for _ in itertools.count():  # the store is waited for, as the broker is
            if await self._checkpoint():
                return
            await asyncio.sleep(self._settings.transient_error_backoff_s)

    async def _publish_unpublished(self) -> None:
        """Publish the alarms the checkpoint holds as not yet published (a crash came between
        their checkpoint and their acknowledgement), under their ids; their records' links are
        gone with the process."""
        if self._unpublished:
            await self._publish([], [(event, []) for event in self._unpublished])
            self._unpublished = []

    async def _retrying(self, outputs: list[Outgoing]) -> None:
        while True:
            try:
                await self._publisher.publish(outputs)
                return
            except TRANSIENT_ERRORS:
                logger.exception("publishing failed; trying again")
                await asyncio.sleep(self._settings.transient_error_backoff_s)

    async def _checkpoint(self) -> bool:
        """Save the state and positions; ``False`` (logged) if the store failed: the next
        interval tries again, and a crash meanwhile replays a little more."""
        document = {
            "format": CHECKPOINT_FORMAT,
            "written_at": datetime.now(UTC),
            "positions": [
                {"topic": tp.topic, "partition": tp.partition, "offset": offset}
                for tp, offset in sorted(self.positions.items())
            ],
            "consumed": dict(self.consumed),
            "dead_lettered": dict(self.dead_lettered),
            "skipped": [[d, r, n] for (d, r), n in sorted(self.monitors.skipped.items())],
            "datasets": self.monitors.to_checkpoint(),
            "unpublished": [event.model_dump(mode="json") for event in self._unpublished],
        }
        try:
            await self._checkpoints.save(document)
        except TRANSIENT_ERRORS:
            logger.exception("checkpoint failed; the next interval tries again")
            return False
        return True

    async def _restore(self) -> None:
        saved = await self._checkpoints.load()
        if saved is None:
            logger.info("no checkpoint: reading the input topics from their start")
            return
        if saved.get("format") != CHECKPOINT_FORMAT:
            raise RuntimeError(
                f"checkpoint format {saved.get('format')} is not {CHECKPOINT_FORMAT}"
            )
        self.positions = {
            TopicPartition(p["topic"], int(p["partition"])): int(p["offset"])
            for p in saved["positions"]
        }
        self.consumed.update(saved["consumed"])
        self.dead_lettered.update(saved["dead_lettered"])
        self.monitors.skipped.update({(d, r): n for d, r, n in saved["skipped"]})
        self.monitors.restore(saved["datasets"])
        self._unpublished = [
            DriftDetected.model_validate(event) for event in saved.get("unpublished", [])
        ]
        logger.info("resumed from the checkpoint of %s", saved["written_at"])


def _observe(monitor: DatasetMonitor, batch: DatasetBatch) -> list[Rejection]:
    """Feed ``batch``; an input the monitor fails on is dead-lettered whole, with the error.
    (The domain accepts any event its contract accepts: a failure is a bug, and which event
    caused it cannot be told without feeding the events again, which would count them twice.)"""
    rejected: list[Rejection] = []
    steps: tuple[tuple[Callable[[], None], int, str], ...] = (
        (lambda: monitor.observe_vectors(batch.vectors), len(batch.vectors), FEATURES_TOPIC),
        (
            lambda: monitor.observe_predictions(batch.predictions),
            len(batch.predictions),
            PREDICTIONS_TOPIC,
        ),
        (
            lambda: monitor.observe_outcomes(batch.outcomes),
            len(batch.outcomes),
            OUTCOMES_VALIDATED_TOPIC,
        ),
    )
    for step, events, topic in steps:
        if not events:
            continue
        try:
            step()
        except Exception as error:
            logger.exception("the monitor failed on %d events of %s", events, topic)
            reason = f"monitor failed on its batch: {type(error).__name__}: {error}"
            rejected += [Rejection(s, reason, error_type="handler") for s in batch.sources[topic]]
    return rejected


def _alarm_sources(event: DriftDetected, batch: DatasetBatch) -> list[SourceRecord]:
    return [s for topic in _ALARM_INPUTS[event.kind] for s in batch.sources.get(topic, [])]
