"""Online features: each validated data event's feature vector, from the spec and per-entity
windows kept per Kafka partition (an entity's events all land on its partition)."""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence

from aiokafka import TopicPartition

from driftloop_contracts import (
    FEATURES_TOPIC,
    SPECS_TOPIC,
    DataValidated,
    FeaturesComputed,
    SpecApplied,
)
from driftloop_features import EntityWindows, compute_features
from driftloop_runtime import (
    BatchResult,
    Incoming,
    Outgoing,
    Rejection,
    RuntimeSettings,
    SpecCatalog,
    construct,
    read_topic,
    replay_partitions,
)

__all__ = ["OnlineFeatures", "vector_id"]

PRODUCER = "feature"


def vector_id(subject_event_id: str) -> str:
    """The feature vector's event id: the same for every computation of one data event, so a
    replay after a crash carries the same id (and consumers de-duplicate it)."""
    candidate = f"features:{subject_event_id}"
    if len(candidate) <= 128:
        return candidate
    return "features:" + hashlib.sha256(subject_event_id.encode()).hexdigest()


class OnlineFeatures:
    """Computes feature vectors batch by batch and keeps the windows they need.

    The windows of a partition are rebuilt from the log when the partition is assigned (replay
    of the validated events up to where consumption resumes), so a restarted service computes
    the same features as one that never stopped; a revoked partition's windows are dropped.
    Each dataset's windows place late events within its spec's ``lateness.events``; when a new
    spec version changes it, held windows take the new value from their next event on (what
    they already hold is not redone, see ``EntityWindows.lateness``).
    """

    def __init__(
        self,
        catalog: SpecCatalog,
        settings: RuntimeSettings,
        *,
        max_entities: int,
    ) -> None:
        """Features by ``catalog``'s specs; windows bounded by ``max_entities`` per partition
        and dataset."""
        self._catalog = catalog
        self._settings = settings
        self._max_entities = max_entities
        self._windows: dict[tuple[int, str], EntityWindows] = {}
        self._to_rebuild: dict[TopicPartition, int] = {}
        self.counts: Counter[str] = Counter()

    async def handle(self, batch: Sequence[Incoming[DataValidated]]) -> BatchResult:
        """The batch handler: a feature vector per event (a dead letter if its dataset has no
        spec here), after rebuilding the windows of partitions assigned since the last batch."""
        if self._to_rebuild:
            await self._rebuild()
        if any(self._catalog.get(item.event.dataset) is None for item in batch):
            await self._catch_up_on_specs()
        return self.compute(batch)

    def compute(self, batch: Sequence[Incoming[DataValidated]]) -> BatchResult:
        """Feature vectors for ``batch``, updating the windows."""
        outputs: list[Outgoing] = []
        rejections: list[Rejection] = []
        for (partition, dataset), items in _groups(batch).items():
            held = self._catalog.get(dataset)
            if held is None:
                rejections += [
                    Rejection(
                        i.source,
                        f"no spec for dataset {dataset!r} here",
                        error_type="unknown_dataset",
                        event_id=i.event.event_id,
                    )
                    for i in items
                ]
                continue
            version, spec = held
            windows = self._state(partition, dataset, spec.lateness.events)
            computed = compute_features(spec, [i.event for i in items], windows)
            self._count(computed.stats)
            columns = list(computed.columns)
            outputs += [
                _vector(item, version, columns, computed.values[row].tolist())
                for row, item in enumerate(items)
            ]
        return BatchResult(outputs=outputs, rejections=rejections)

    async def assigned(self, resume_from: Mapping[TopicPartition, int]) -> None:
        """Note newly assigned partitions: their windows are rebuilt before the next batch.

        Not here: a Kafka client started inside aiokafka's rebalance callback stalls the
        group's own consumer after its first batch (seen with aiokafka 0.14).
        """
        self._to_rebuild |= {tp: offset for tp, offset in resume_from.items() if offset > 0}

    async def revoked(self, partitions: set[TopicPartition]) -> None:
        """Drop the windows of partitions another member now consumes."""
        gone = {tp.partition for tp in partitions}
        self._windows = {key: w for key, w in self._windows.items() if key[0] not in gone}
        self._to_rebuild = {tp: o for tp, o in self._to_rebuild.items() if tp not in partitions}

    async def _catch_up_on_specs(self) -> None:
        """Read the applied specs again: ingestion may have validated an event against a spec
        that this service's live follower has not delivered yet."""
        for event in await read_topic(self._settings, SPECS_TOPIC, SpecApplied):
            self._catalog.apply(event)

    async def _rebuild(self) -> None:
        """Replay the validated events of the noted partitions up to where consumption resumed,
        through the same computation, publishing nothing; a fetched chunk at a time, so memory
        stays bounded and health checks are answered meanwhile."""
        until, self._to_rebuild = self._to_rebuild, {}
        async for chunk in replay_partitions(self._settings, DataValidated, until):
            self.compute(chunk)
            self.counts["replayed"] += len(chunk)
            await asyncio.sleep(0)

    def _state(self, partition: int, dataset: str, lateness: int) -> EntityWindows:
        key = (partition, dataset)
        if key not in self._windows:
            self._windows[key] = EntityWindows(max_entities=self._max_entities, lateness=lateness)
        windows = self._windows[key]
        windows.lateness = lateness  # a new spec version may have changed it
        return windows

    def _count(self, stats: object) -> None:
        for name in ("events", "late", "too_late", "duplicates", "evicted", "unfilled"):
            self.counts[name] += int(getattr(stats, name))


def _groups(
    batch: Sequence[Incoming[DataValidated]],
) -> dict[tuple[int, str], list[Incoming[DataValidated]]]:
    groups: dict[tuple[int, str], list[Incoming[DataValidated]]] = {}
    for item in batch:
        groups.setdefault((item.source.partition, item.event.dataset), []).append(item)
    return groups


def _vector(
    item: Incoming[DataValidated], spec_version: int, columns: list[str], values: list[float]
) -> Outgoing:
    event = item.event
    # Not validated again: the input passed its contract, the columns its spec's checks, and
    # compute_features returns finite values only.
    vector = construct(
        FeaturesComputed,
        event_id=vector_id(event.subject_event_id),
        occurred_at=event.occurred_at,
        producer=PRODUCER,
        causation_id=event.event_id,
        dataset=event.dataset,
        entity_id=event.entity_id,
        subject_event_id=event.subject_event_id,
        spec_version=spec_version,
        feature_names=columns,
        values=values,
        label=event.label,
        source_topic=item.source.topic,
        source_partition=item.source.partition,
        source_offset=item.source.offset,
    )
    return Outgoing(FEATURES_TOPIC, event.entity_id, vector, item.source)
