"""The predict API's online state: each entity's recent validated events, read from the log.

Services talk only through Kafka, so the scorer keeps its own copy of what the windowed features
need: every replica reads every partition of the validated data topic (no consumer group), so
any replica answers for any entity. Per dataset it keeps, for at most ``max_entities`` entities
(least recently updated evicted first), the events within the spec's longest window plus its
``lateness.events`` of the entity's newest event, with only the fields the aggregates read, and
at most ``max_events_per_entity`` of them: past it the earliest arrived are dropped (counted),
so an entity busier than that has its windowed features over its newest events only (the
feature service, bounded in time alone, keeps them all). An entity's events are held as columns
(times, ids, each read field's values), not as one object per event: a fraction of the memory.

A request's features are computed by replaying the entity's kept events, then the request's,
through fresh windows with the feature service's own code (``compute_features``): the same
values the feature service computed for an event arriving after that history, and nothing
shared is changed, so the request is not ingested.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from aiokafka import AIOKafkaConsumer, TopicPartition
from numpy.typing import NDArray
from pydantic import ValidationError

from driftloop_contracts import DATA_VALIDATED_TOPIC, DataValidated
from driftloop_features import (
    DataRow,
    EntityWindows,
    FieldValue,
    compute_features,
    event_moment,
    event_time_us,
)
from driftloop_runtime import TRANSIENT_ERRORS, RuntimeSettings, SpecCatalog
from driftloop_runtime.kafka import client_options
from driftloop_spec import AggregateFeature, DatasetSpec

__all__ = ["RecentEvents", "follow_validated"]

logger = logging.getLogger(__name__)
SECOND_US = 1_000_000
SEEK_MARGIN_S = 3600


@dataclass(slots=True)
class _History:
    """An entity's kept events in arrival order, as columns: event times (microseconds since
    the epoch), event ids, and per field in ``names`` its values (``None`` where missing)."""

    names: tuple[str, ...] = ()
    times: deque[int] = field(default_factory=deque)
    ids: deque[str] = field(default_factory=deque)
    values: list[deque[FieldValue]] = field(default_factory=list)
    newest_us: int = -(2**63)

    def __len__(self) -> int:
        return len(self.times)

    def append(self, event: DataValidated, names: tuple[str, ...]) -> None:
        if names != self.names:  # another spec version: its fields, none for the events held
            held = dict(zip(self.names, self.values, strict=True))
            self.values = [held.get(name, deque([None] * len(self))) for name in names]
            self.names = names
        time_us = event_time_us(event.occurred_at)
        self.times.append(time_us)
        self.ids.append(event.event_id)
        for name, column in zip(names, self.values, strict=True):
            column.append(event.fields.get(name))
        self.newest_us = max(self.newest_us, time_us)

    def drop_oldest(self) -> None:
        self.times.popleft()
        self.ids.popleft()
        for column in self.values:
            column.popleft()

    def rows(self, entity_id: str) -> list[DataRow]:
        return [
            DataRow(
                event_id,
                entity_id,
                event_moment(time_us),
                dict(zip(self.names, values, strict=True)),
            )
            for time_us, event_id, *values in zip(self.times, self.ids, *self.values, strict=True)
        ]


class RecentEvents:
    """Per dataset and entity, the recent validated events the windowed features read."""

    def __init__(
        self,
        specs: SpecCatalog,
        *,
        max_entities: int,
        max_events_per_entity: int,
        enabled: bool = True,
    ) -> None:
        """Keep what ``specs``' aggregates need; ``enabled`` false: nothing is read."""
        self._specs = specs
        self.enabled = enabled
        self._max_entities = max_entities
        self._max_events = max_events_per_entity
        self._held: dict[str, OrderedDict[str, _History]] = {}
        self._dropped: Counter[str] = Counter()  # per dataset, past max_events_per_entity
        self._plans: dict[str, tuple[DatasetSpec, _Kept | None]] = {}
        self.caught_up = False
        self.events = 0

    def add(self, events: Iterable[DataValidated]) -> None:
        """Keep ``events`` (in arrival order) where their dataset has windowed features."""
        for event in events:
            kept = self._kept(event.dataset)
            if kept is not None:
                self._keep(event, kept)
            self.events += 1

    def _kept(self, dataset: str) -> _Kept | None:
        """What the dataset's current spec needs kept, worked out once per spec."""
        held = self._specs.get(dataset)
        if held is None:
            return None
        spec = held[1]
        cached = self._plans.get(dataset)
        if cached is None or cached[0] is not spec:
            cached = self._plans[dataset] = (spec, _Kept.of(spec))
        return cached[1]

    def horizon_s(self) -> int:
        """How far back the specs' windows reach: the most of any spec's longest window plus
        that spec's lateness."""
        specs = (self._specs.get(dataset) for dataset in self._specs.datasets())
        return max((_reach_s(held[1]) for held in specs if held), default=0)

    def clear(self) -> None:
        """Forget every event kept (before reading the topic again)."""
        self._held.clear()
        self.caught_up = False

    def unready(self, spec: DatasetSpec) -> str | None:
        """Why ``spec``'s windowed features cannot be computed here yet, if they cannot."""
        if not _aggregates(spec) or self.caught_up:
            return None
        if not self.enabled:
            return "this scorer keeps no per-entity history (DRIFTLOOP_PREDICT_STATE=false)"
        return "the per-entity history is still being read; retry shortly"

    def features(self, spec: DatasetSpec, row: DataRow) -> NDArray[np.float64]:
        """``row``'s feature vector (shape ``(1, columns)``) as if it arrived now, after the
        entity's kept events; the kept events are not changed."""
        entity = self._held.get(spec.name, OrderedDict()).get(row.entity_id)
        history = entity.rows(row.entity_id) if entity is not None else []
        windows = EntityWindows(max_entities=1, lateness=spec.lateness.events)
        return compute_features(spec, [*history, row], windows).values[-1:]

    def counts(self) -> dict[str, object]:
        """What is held, for ``GET /v1/stats``: per dataset, entities, events held in all and
        by the entity holding most, and events dropped past the per-entity bound."""
        held = sorted(self._held.items())
        return {
            "enabled": self.enabled,
            "caught_up": self.caught_up,
            "events_read": self.events,
            "max_events_per_entity": self._max_events,
            "entities": {dataset: len(entities) for dataset, entities in held},
            "events_held": {d: sum(map(len, e.values())) for d, e in held},
            "largest_entity": {d: max(map(len, e.values()), default=0) for d, e in held},
            "events_dropped": dict(sorted(self._dropped.items())),
        }

    def _keep(self, event: DataValidated, plan: _Kept) -> None:
        entities = self._held.setdefault(event.dataset, OrderedDict())
        held = entities.pop(event.entity_id, None)
        history = _History() if held is None else held
        entities[event.entity_id] = history  # now the most recently updated
        if len(entities) > self._max_entities:
            entities.popitem(last=False)
        history.append(event, plan.names)
        while history.times[0] < history.newest_us - plan.horizon_us:
            history.drop_oldest()
        if len(history) > self._max_events:
            history.drop_oldest()
            self._dropped[event.dataset] += 1


@dataclass(frozen=True, slots=True)
class _Kept:
    """What a spec's windows read of an entity's events: these fields, this far back."""

    names: tuple[str, ...]
    horizon_us: int

    @classmethod
    def of(cls, spec: DatasetSpec) -> _Kept | None:
        """``None`` for a spec without windowed features: nothing to keep."""
        aggregates = _aggregates(spec)
        if not aggregates:
            return None
        names = tuple(sorted({a.field for a in aggregates if a.field is not None}))
        return cls(names, _reach_s(spec) * SECOND_US)


def _aggregates(spec: DatasetSpec) -> list[AggregateFeature]:
    return [f for f in spec.features if isinstance(f, AggregateFeature)]


def _reach_s(spec: DatasetSpec) -> int:
    """How far behind an entity's newest event ``spec``'s windows read: the feature service
    keeps as much (its longest window plus its lateness); 0 without windowed features."""
    windows = [a.window for a in _aggregates(spec)]
    return max(windows) + spec.lateness.events if windows else 0


async def follow_validated(settings: RuntimeSettings, recent: RecentEvents) -> None:
    """Read the validated data topic's recent past into ``recent``, then follow it;
    ``recent.caught_up`` turns true once the end seen at start is reached. Runs until
    cancelled; a broker error starts it over (from an empty history) after a pause."""
    while True:
        try:
            await _read(settings, recent)
        except TRANSIENT_ERRORS:
            logger.exception("reading %s failed; starting over", DATA_VALIDATED_TOPIC)
            await asyncio.sleep(settings.transient_error_backoff_s)


async def _read(settings: RuntimeSettings, recent: RecentEvents) -> None:
    consumer = AIOKafkaConsumer(**client_options(settings), enable_auto_commit=False)
    await consumer.start()
    try:
        recent.clear()
        partitions = await _partitions(consumer)
        end = await consumer.end_offsets(partitions)
        await _seek_to_recent(consumer, end, recent.horizon_s())
        while True:
            fetched = await consumer.getmany(timeout_ms=500, max_records=settings.kafka_max_records)
            recent.add(_parsed(r.value for records in fetched.values() for r in records))
            if not recent.caught_up and all(
                [await consumer.position(tp) >= end[tp] for tp in partitions]
            ):
                recent.caught_up = True
                logger.info("predict state caught up: %s", recent.counts())
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer) -> list[TopicPartition]:
    await consumer.topics()  # loads the metadata partitions_for_topic reads
    ids = sorted(consumer.partitions_for_topic(DATA_VALIDATED_TOPIC) or ())
    partitions = [TopicPartition(DATA_VALIDATED_TOPIC, p) for p in ids]
    consumer.assign(partitions)
    return partitions


async def _seek_to_recent(
    consumer: AIOKafkaConsumer, end: Mapping[TopicPartition, int], horizon_s: int
) -> None:
    """Start each partition at the first record written within the horizon (plus a margin
    for clocks and lag): older events cannot be in a window any more. A broker that cannot
    look offsets up by time (the embedded one answers 0) makes this the topic's start."""
    since_ms = int((time.time() - horizon_s - SEEK_MARGIN_S) * 1000)
    found = await consumer.offsets_for_times({tp: since_ms for tp in end})
    for tp, last in end.items():
        at = found.get(tp)
        consumer.seek(tp, at.offset if at is not None else last)


def _parsed(values: Iterable[bytes | None]) -> list[DataValidated]:
    events = []
    for value in values:
        try:
            events.append(DataValidated.model_validate_json(value or b""))
        except ValidationError:
            continue  # the feature service dead-letters it; nothing to keep here
    return events
