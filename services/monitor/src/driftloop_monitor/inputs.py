"""The monitor's three input topics: records parsed with their contracts and routed by dataset."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition

from driftloop_contracts import (
    FEATURES_TOPIC,
    OUTCOMES_VALIDATED_TOPIC,
    PREDICTIONS_TOPIC,
    FeaturesComputed,
    OutcomeValidated,
    PredictionMade,
)
from driftloop_monitor.monitoring import Seen
from driftloop_runtime import Rejection, SourceRecord, parse_records

__all__ = ["INPUTS", "DatasetBatch", "route"]

INPUTS: dict[str, type[FeaturesComputed] | type[PredictionMade] | type[OutcomeValidated]] = {
    FEATURES_TOPIC: FeaturesComputed,
    PREDICTIONS_TOPIC: PredictionMade,
    OUTCOMES_VALIDATED_TOPIC: OutcomeValidated,
}
"""Each topic the monitor reads, and the contract of its records."""


@dataclass(slots=True)
class DatasetBatch:
    """One dataset's share of a fetched batch, by input, with the records it came from."""

    vectors: list[Seen[FeaturesComputed]] = field(default_factory=list)
    predictions: list[Seen[PredictionMade]] = field(default_factory=list)
    outcomes: list[Seen[OutcomeValidated]] = field(default_factory=list)
    sources: dict[str, list[SourceRecord]] = field(default_factory=lambda: defaultdict(list))

    def __len__(self) -> int:
        return len(self.vectors) + len(self.predictions) + len(self.outcomes)

    def add(self, event: Any, source: SourceRecord) -> None:
        seen = Seen(event, source.partition, source.offset)
        if isinstance(event, FeaturesComputed):
            self.vectors.append(seen)
        elif isinstance(event, PredictionMade):
            self.predictions.append(seen)
        else:
            self.outcomes.append(seen)
        self.sources[source.topic].append(source)


def route(
    fetched: Mapping[TopicPartition, Sequence[ConsumerRecord[Any, Any]]],
) -> tuple[dict[str, DatasetBatch], list[Rejection]]:
    """Parse every record with its topic's contract; the valid ones by dataset, the others as
    rejections with the validation error as their reason."""
    batches: dict[str, DatasetBatch] = defaultdict(DatasetBatch)
    rejected: list[Rejection] = []
    for tp, records in fetched.items():
        parsed, broken = parse_records(INPUTS[tp.topic], [SourceRecord.of(r) for r in records])
        for item in parsed:
            batches[item.event.dataset].add(item.event, item.source)
        rejected += broken
    return dict(batches), rejected
