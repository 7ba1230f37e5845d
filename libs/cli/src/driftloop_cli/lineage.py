"""Lineage of one data event: its predictions, the model versions that made them, the runs that
trained those versions on which data, and who promoted them and why.

The log is the record: the predictions are found on ``driftloop.predictions.v1`` (each names
the feature vector it was computed from, whose record names the validated data event), and
the registry answers for the versions, runs and alias moves. ``find_predictions`` and
``feature_vector`` talk to Kafka; ``Lineage`` and ``version_lineage`` only arrange what was
found.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import TopicPartition

from driftloop_contracts import PREDICTIONS_TOPIC, FeaturesComputed, PredictionMade
from driftloop_runtime import Incoming, RuntimeSettings, read_at, scan_topic

__all__ = [
    "Lineage",
    "ModelLineage",
    "PredictionLineage",
    "feature_vector",
    "find_predictions",
    "version_lineage",
]

JsonObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ModelLineage:
    """A model version as the registry knows it: its run, data window and alias moves.

    Attributes:
        name: Registered model name.
        version: Version number.
        version_record: The registry's record of the version (metrics, artifact, decision).
        run: The training run that produced it, if the registry has it.
        promotions: The alias moves that gave this version a serving alias, oldest first.
    """

    name: str
    version: int
    version_record: JsonObject
    run: JsonObject | None
    promotions: list[JsonObject]

    def as_json(self) -> JsonObject:
        """The lineage of the version as plain JSON."""
        lineage = self.version_record.get("lineage") or {}
        return {
            "name": self.name,
            "version": self.version,
            "artifact": self.version_record.get("artifact"),
            "run_id": lineage.get("run_id") or self.version_record.get("run_id"),
            "trigger_event_id": lineage.get("trigger_event_id"),
            "spec_version": self.version_record.get("spec_version"),
            "data_window": lineage.get("data_window"),
            "metrics": self.version_record.get("metrics"),
            "run": self.run,
            "promotions": self.promotions,
        }


@dataclass(frozen=True, slots=True)
class PredictionLineage:
    """One prediction of the data event, where it was read, and the feature vector behind it."""

    prediction: Incoming[PredictionMade]
    vector: Incoming[FeaturesComputed] | None

    def as_json(self) -> JsonObject:
        """The prediction, its position in the log and its feature vector's, as plain JSON."""
        event, source = self.prediction.event, self.prediction.source
        return {
            "prediction": event.model_dump(mode="json"),
            "at": _position(source.topic, source.partition, source.offset),
            "feature_vector": _vector_json(event, self.vector),
        }


@dataclass(frozen=True, slots=True)
class Lineage:
    """Everything found about one data event."""

    event_id: str
    predictions: list[PredictionLineage]
    models: dict[tuple[str, int], ModelLineage] = field(default_factory=dict)

    def as_json(self) -> JsonObject:
        """The whole lineage as plain JSON (what ``driftloop lineage --json`` prints)."""
        return {
            "event_id": self.event_id,
            "predictions": [p.as_json() for p in self.predictions],
            "models": [m.as_json() for _, m in sorted(self.models.items())],
        }


async def find_predictions(
    settings: RuntimeSettings, event_id: str
) -> list[Incoming[PredictionMade]]:
    """Every prediction made for data event ``event_id``, champion's and shadows', in log order.

    Scans the whole predictions topic; only records holding the id's bytes are parsed.
    """
    needle = event_id.encode()
    return [
        item
        async for chunk in scan_topic(
            settings, PREDICTIONS_TOPIC, PredictionMade, containing=needle
        )
        for item in chunk
        if item.event.subject_event_id == event_id
    ]


async def feature_vector(
    settings: RuntimeSettings, prediction: PredictionMade
) -> Incoming[FeaturesComputed] | None:
    """The feature vector a prediction was computed from, read where the prediction says."""
    where = _vector_position(prediction)
    if where is None:
        return None
    topic, partition, offset = where
    found = await read_at(settings, FeaturesComputed, TopicPartition(topic, partition), offset)
    return found if found and found.event.subject_event_id == prediction.subject_event_id else None


def version_lineage(
    name: str,
    version: int,
    *,
    version_record: Callable[[str, int], JsonObject],
    run: Callable[[str], JsonObject | None],
    history: Callable[[str], Sequence[JsonObject]],
) -> ModelLineage:
    """A version's lineage from the registry's answers (passed as callables, for testing)."""
    record = version_record(name, version)
    run_id = (record.get("lineage") or {}).get("run_id") or record.get("run_id")
    promotions = [
        move
        for move in history(name)
        if move.get("version") == version and move.get("kind") in ("promote", "rollback")
    ]
    return ModelLineage(name, version, record, run(run_id) if run_id else None, promotions)


def _position(topic: str, partition: int, offset: int) -> JsonObject:
    return {"topic": topic, "partition": partition, "offset": offset}


def _vector_position(prediction: PredictionMade) -> tuple[str, int, int] | None:
    """Where the prediction's feature vector was read; ``None`` when it does not say (the
    synchronous predict's answers, which are not published)."""
    topic, partition = prediction.source_topic, prediction.source_partition
    offset = prediction.source_offset
    if topic is None or partition is None or offset is None:
        return None
    return topic, partition, offset


def _vector_json(
    prediction: PredictionMade, vector: Incoming[FeaturesComputed] | None
) -> JsonObject | None:
    where = _vector_position(prediction)
    if where is None:
        return None
    found: JsonObject = {
        "at": _position(*where),
        "features_hash": prediction.features_hash,
        "spec_version": prediction.spec_version,
    }
    if vector is not None:
        features = vector.event
        found["event_id"] = features.event_id
        found["features"] = features.as_dict()
        found["validated_event_at"] = _position(
            features.source_topic, features.source_partition, features.source_offset
        )
    return found
