"""Lineage: a version's run and promotions picked out of the registry's answers."""

from __future__ import annotations

from typing import Any

import pytest

from driftloop_cli.lineage import Lineage, PredictionLineage, version_lineage
from driftloop_contracts import FeaturesComputed, PredictionMade
from driftloop_runtime import Incoming, SourceRecord

pytestmark = pytest.mark.unit

HISTORY = [
    {"version": 1, "kind": "promote", "alias": "champion", "actor": "registry", "reason": "first"},
    {"version": 2, "kind": "promote", "alias": "shadow", "actor": "registry", "reason": "trial"},
    {"version": 2, "kind": "retire", "alias": "shadow", "actor": "registry", "reason": "lost"},
    {"version": 2, "kind": "promote", "alias": "champion", "actor": "alice", "reason": "better"},
]


def record(name: str, version: int) -> dict[str, Any]:
    return {
        "name": name,
        "version": version,
        "metrics": {"roc_auc": 0.91},
        "lineage": {"run_id": f"run-{version}", "data_window": {"row_count": 500}},
    }


def test_a_version_lineage_has_its_run_and_only_the_moves_that_gave_it_an_alias() -> None:
    asked: list[str] = []

    def run(run_id: str) -> dict[str, Any]:
        asked.append(run_id)
        return {"run_id": run_id, "status": "succeeded"}

    found = version_lineage(
        "fraud", 2, version_record=record, run=run, history=lambda name: HISTORY
    )

    assert asked == ["run-2"]
    assert [(m["alias"], m["actor"]) for m in found.promotions] == [
        ("shadow", "registry"),
        ("champion", "alice"),
    ]
    summary = found.as_json()
    assert summary["run_id"] == "run-2"
    assert summary["data_window"] == {"row_count": 500}


def test_the_lineage_json_follows_the_prediction_back_to_the_validated_event() -> None:
    vector = FeaturesComputed.example()
    prediction = PredictionMade.example().model_copy(
        update={
            "subject_event_id": vector.subject_event_id,
            "source_topic": "driftloop.features.v1",
            "source_partition": 1,
            "source_offset": 42,
        }
    )
    at = SourceRecord("driftloop.predictions.v1", 2, 7, None, b"")
    found = Lineage(
        vector.subject_event_id,
        [
            PredictionLineage(
                Incoming(prediction, at),
                Incoming(vector, SourceRecord("driftloop.features.v1", 1, 42, None, b"")),
            )
        ],
    ).as_json()

    (item,) = found["predictions"]
    assert item["at"] == {"topic": "driftloop.predictions.v1", "partition": 2, "offset": 7}
    assert item["feature_vector"]["at"]["offset"] == 42
    assert item["feature_vector"]["validated_event_at"] == {
        "topic": vector.source_topic,
        "partition": vector.source_partition,
        "offset": vector.source_offset,
    }
    assert item["feature_vector"]["features"] == vector.as_dict()
