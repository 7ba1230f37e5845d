"""The two inputs of ingestion, data and outcomes: how each judges an event, what it publishes,
which ids it has seen and what it counted.

De-duplication: an event id is remembered once its validated event has been *published* (the
publisher tells the lanes, see ``Intake.on_published``), not when it is judged, so a batch that
fails to publish and is delivered again is not mistaken for duplicates of itself.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from driftloop_contracts import (
    DATA_TOPIC,
    DATA_VALIDATED_TOPIC,
    OUTCOMES_TOPIC,
    OUTCOMES_VALIDATED_TOPIC,
    DataEvent,
    DeadLettered,
    Event,
    OutcomeEvent,
)
from driftloop_ingestion.domain import (
    Verdict,
    outcome_key,
    size_problem,
    validate_data_event,
    validate_outcome,
    validated_data,
    validated_outcome,
)
from driftloop_runtime import Deduplicator, Outgoing, SourceRecord, SpecCatalog
from driftloop_spec import DatasetSpec

__all__ = ["E", "Intake", "Judgement", "Lane", "LaneStats", "Status"]

E = TypeVar("E", DataEvent, OutcomeEvent)
Status = Literal["accepted", "rejected", "duplicate"]
logger = logging.getLogger(__name__)

MAX_FIELD_NAMES = 100  # distinct unknown field names counted one by one; the rest together


@dataclass(frozen=True, slots=True)
class Judgement:
    """What became of one event: accepted (with the spec it passed), rejected or a duplicate."""

    status: Status
    verdict: Verdict = field(default_factory=Verdict)
    spec: tuple[int, DatasetSpec] | None = None


class LaneStats:
    """In-process counters of one lane (since the process started)."""

    def __init__(self) -> None:
        self.accepted = 0
        self.duplicates = 0
        self.dead_lettered: Counter[str] = Counter()
        self.problems: Counter[str] = Counter()
        self.unknown_fields: Counter[str] = Counter()
        self.http: Counter[str] = Counter()
        self.http_problems: Counter[str] = Counter()

    def count_unknown(self, dataset: str, names: Sequence[str]) -> None:
        for name in names:
            key = f"{dataset}.{name}"
            known = key in self.unknown_fields or len(self.unknown_fields) < MAX_FIELD_NAMES
            self.unknown_fields[key if known else "(other)"] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": sum(self.dead_lettered.values()),
            "dead_lettered": dict(self.dead_lettered),
            "problems": dict(self.problems),
            "unknown_fields": {
                "total": sum(self.unknown_fields.values()),
                "by_field": dict(self.unknown_fields.most_common()),
            },
            "http": {
                "accepted": self.http["accepted"],
                "rejected": self.http["rejected"],
                "duplicates": self.http["duplicate"],
                "problems": dict(self.http_problems),
            },
        }


class Lane(Generic[E]):
    """One raw topic: its contract, how its events are judged, what they are published as."""

    def __init__(
        self,
        *,
        name: str,
        topic: str,
        output_topic: str,
        contract: type[E],
        validate: Callable[[DatasetSpec | None, E], Verdict],
        build: Callable[[E, tuple[int, DatasetSpec], SourceRecord], Event],
        key: Callable[[E], str],
        catalog: SpecCatalog,
        max_event_bytes: int,
        dedup_capacity: int,
    ) -> None:
        self.name = name
        self.topic = topic
        self.output_topic = output_topic
        self.contract: type[E] = contract
        self.key: Callable[[E], str] = key
        self._validate: Callable[[DatasetSpec | None, E], Verdict] = validate
        self._build: Callable[[E, tuple[int, DatasetSpec], SourceRecord], Event] = build
        self._catalog = catalog
        self._max_bytes = max_event_bytes
        self.seen = Deduplicator(dedup_capacity)  # published as validated (Kafka and HTTP)
        self.forwarded = Deduplicator(dedup_capacity)  # written to the raw topic by the HTTP API
        self.stats = LaneStats()
        self._warned = Deduplicator(1024)  # unknown fields already logged

    def judge(self, event: E, size: int, *, duplicate: bool) -> Judgement:
        """Judge one event of ``size`` raw bytes (``duplicate``: its id was seen already)."""
        if duplicate:
            return Judgement("duplicate")
        too_large = size_problem(size, self._max_bytes)
        if too_large is not None:
            return Judgement("rejected", Verdict((too_large,)))
        spec = self._catalog.get(event.dataset)
        verdict = self._validate(spec[1] if spec else None, event)
        return Judgement("accepted" if verdict.ok else "rejected", verdict, spec)

    def validated(self, event: E, judgement: Judgement, source: SourceRecord) -> Outgoing:
        """The validated event to publish for an accepted one, keyed and linked to its source."""
        assert judgement.spec is not None, "only an accepted event is published"
        output = self._build(event, judgement.spec, source)
        return Outgoing(self.output_topic, self.key(event), output, source)

    def count(self, event: E, judgement: Judgement) -> None:
        """Count a consumed event's judgement (validated events and dead letters are counted
        by ``Intake.on_published``, once the broker has them)."""
        self.stats.duplicates += judgement.status == "duplicate"
        self.stats.problems.update(judgement.verdict.kinds)
        self._report_unknown(event.dataset, judgement.verdict.unknown_fields)

    def count_http(self, judgement: Judgement) -> None:
        """Count the judgement of an event sent over HTTP (its unknown fields are counted when
        it is consumed from the raw topic, not twice)."""
        self.stats.http[judgement.status] += 1
        self.stats.http_problems.update(judgement.verdict.kinds)

    def _report_unknown(self, dataset: str, names: tuple[str, ...]) -> None:
        if not names:
            return
        self.stats.count_unknown(dataset, names)
        for name in names:
            if self._warned.first_time(f"{dataset}.{name}"):
                logger.warning("dataset %s: events carry field %r, not in its spec", dataset, name)


class Intake:
    """Both lanes over one spec catalog, and the bookkeeping of what was published."""

    def __init__(self, catalog: SpecCatalog, *, max_event_bytes: int, dedup_capacity: int) -> None:
        self.catalog = catalog
        self.data: Lane[DataEvent] = Lane(
            name="data",
            topic=DATA_TOPIC,
            output_topic=DATA_VALIDATED_TOPIC,
            contract=DataEvent,
            validate=validate_data_event,
            build=lambda event, spec, source: validated_data(
                event, spec=spec[1], spec_version=spec[0], source=source
            ),
            key=lambda event: event.entity_id,
            catalog=catalog,
            max_event_bytes=max_event_bytes,
            dedup_capacity=dedup_capacity,
        )
        self.outcomes: Lane[OutcomeEvent] = Lane(
            name="outcomes",
            topic=OUTCOMES_TOPIC,
            output_topic=OUTCOMES_VALIDATED_TOPIC,
            contract=OutcomeEvent,
            validate=validate_outcome,
            build=lambda event, spec, source: validated_outcome(
                event, spec_version=spec[0], source=source
            ),
            key=outcome_key,
            catalog=catalog,
            max_event_bytes=max_event_bytes,
            dedup_capacity=dedup_capacity,
        )

    def on_published(self, outgoing: Sequence[Outgoing]) -> None:
        """Remember the ids of the events now validated and published, and count outcomes."""
        lanes: tuple[Lane[Any], ...] = (self.data, self.outcomes)
        for item in outgoing:
            event = item.event
            for lane in lanes:
                if item.topic == lane.output_topic and event.causation_id is not None:
                    lane.seen.first_time(event.causation_id)
                    lane.stats.accepted += 1
                elif isinstance(event, DeadLettered) and event.source_topic == lane.topic:
                    lane.stats.dead_lettered[event.error_type or "rejected"] += 1

    def stats(self) -> dict[str, Any]:
        """Every counter, and the spec version each dataset is checked against."""
        entries = {name: self.catalog.get(name) for name in self.catalog.datasets()}
        specs = {name: entry[0] for name, entry in entries.items() if entry is not None}
        return {
            "specs": specs,
            "data": self.data.stats.as_dict(),
            "outcomes": self.outcomes.stats.as_dict(),
        }
