"""Checkpoints: a plain JSON-compatible document that restores windows serving identically."""

from __future__ import annotations

import json
from typing import Any

import pytest

from driftloop_features import CHECKPOINT_VERSION, CheckpointError, EntityWindows, compute_features
from driftloop_spec import DatasetSpec

from .helpers import event, spec_of

pytestmark = pytest.mark.unit

SPEC: DatasetSpec = spec_of(
    {"v": {"type": "float", "required": False}, "u": {"type": "int", "required": False}},
    [
        {"name": "n", "transform": "aggregate", "fn": "count", "window": "10s"},
        {"name": "v_mean", "transform": "aggregate", "fn": "mean", "field": "v", "window": "10s"},
        {"name": "u_max", "transform": "aggregate", "fn": "max", "field": "u", "window": "5s"},
    ],
)

BEFORE = [
    event("a1", "a", 0, v=0.1, u=3),
    event("b1", "b", 1, v=0.2),
    event("a2", "a", 4, v=0.7, u=1),
    event("c1", "c", 5, u=9),
    event("a3", "a", 3, v=0.3),  # late
    event("b2", "b", 1, v=0.2),  # another event at the same time as b1
]
AFTER = [
    event("a2", "a", 4, v=0.7, u=1),  # a replay
    event("d1", "d", 6, v=1.5),  # evicts the least recently updated (c)
    event("a4", "a", 12, v=0.1),
    event("b3", "b", 2, v=0.4, u=2),
    event("a5", "a", 1, v=9.0),  # too late
    event("c2", "c", 7, v=0.6),
]


def test_the_document_is_plain_json_with_a_version() -> None:
    windows = EntityWindows(max_entities=3, lateness=2)
    compute_features(SPEC, BEFORE, windows)
    document = windows.to_checkpoint()
    assert json.loads(json.dumps(document)) == document
    assert document["version"] == CHECKPOINT_VERSION == 1
    assert (document["max_entities"], document["lateness"]) == (3, 2)
    assert document["counters"] == {"evictions": 0, "late": 1, "too_late": 0, "duplicates": 0}
    assert [e["entity_id"] for e in document["entities"]] == ["c", "a", "b"]  # least recent first
    a = document["entities"][1]
    assert a["times"] == [1717236000000000, 1717236003000000, 1717236004000000]
    assert a["event_ids"] == ["a1", "a3", "a2"]
    assert a["series"] == [
        {"field": "u", "times": [1717236000000000, 1717236004000000], "values": [3.0, 1.0]},
        {
            "field": "v",
            "times": [1717236000000000, 1717236003000000, 1717236004000000],
            "values": [0.1, 0.3, 0.7],
        },
    ]


def test_a_restored_state_serves_exactly_what_the_original_would_have() -> None:
    original = EntityWindows(max_entities=3, lateness=2)
    compute_features(SPEC, BEFORE, original)
    restored = EntityWindows.from_checkpoint(json.loads(json.dumps(original.to_checkpoint())))
    assert restored.to_checkpoint() == original.to_checkpoint()
    assert (len(restored), restored.events_held) == (3, 6)
    expected = compute_features(SPEC, AFTER, original)
    served = compute_features(SPEC, AFTER, restored)
    assert served.values.tobytes() == expected.values.tobytes()
    assert (
        served.arrivals
        == expected.arrivals
        == (
            "duplicate",
            "on_time",
            "on_time",
            "on_time",
            "too_late",
            "on_time",
        )
    )
    assert served.stats == expected.stats
    assert restored.to_checkpoint() == original.to_checkpoint()
    assert (restored.evictions, restored.duplicates, restored.too_late) == (2, 1, 1)


def test_bson_style_integers_are_read() -> None:
    class Int64(int):
        """Like bson.int64.Int64: a subclass of int that PyMongo decodes int64 values into."""

    windows = EntityWindows()
    compute_features(SPEC, BEFORE[:1], windows)
    document = windows.to_checkpoint()
    document["entities"][0]["times"] = [Int64(t) for t in document["entities"][0]["times"]]
    document["max_entities"] = Int64(document["max_entities"])
    restored = EntityWindows.from_checkpoint(document)
    assert restored.to_checkpoint() == windows.to_checkpoint()


def valid() -> dict[str, Any]:
    windows = EntityWindows(max_entities=3)
    compute_features(SPEC, BEFORE, windows)
    return windows.to_checkpoint()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("version",), 2, "checkpoint version 2 is not readable: this code reads version 1"),
        (("version",), True, "checkpoint version True is not readable"),
        (("max_entities",), 0, "max_entities: expected a whole number >= 1, got 0"),
        (("lateness",), 1.5, "lateness: expected a whole number >= 0, got 1.5"),
        (("counters", "late"), -1, r"counters.late: expected a whole number >= 0, got -1"),
        (
            ("entities", 1, "times"),
            [3, 2, 1],
            r"entities\[1\].times: times must be in event-time order",
        ),
        (("entities", 1, "times"), [], r"entities\[1\].times: an entity holds at least one event"),
        (
            ("entities", 1, "event_ids"),
            ["x"],
            r"entities\[1\].event_ids: expected one string per time",
        ),
        (("entities", 1, "entity_id"), 7, r"entities\[1\].entity_id: expected a string, got 7"),
        (("entities", 1, "entity_id"), "b", "entities: an entity_id occurs twice"),
        (
            ("entities", 1, "series", 0, "values", 0),
            float("nan"),
            r"entities\[1\].series\[0\].values\[0\]: expected a finite number, got nan",
        ),
        (
            ("entities", 1, "series", 0, "values", 0),
            "3",
            r"entities\[1\].series\[0\].values\[0\]: expected a finite number, got '3'",
        ),
        (
            ("entities", 1, "series", 0, "values"),
            [],
            r"entities\[1\].series\[0\].values: expected one",
        ),
        (("entities",), {}, "entities: expected a list, got dict"),
    ],
)
def test_a_bad_document_is_refused_naming_where(
    path: tuple[str | int, ...], value: Any, message: str
) -> None:
    document = valid()
    target: Any = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(CheckpointError, match=message):
        EntityWindows.from_checkpoint(document)


def test_more_entities_than_the_bound_is_refused() -> None:
    document = valid()
    document["max_entities"] = 2
    with pytest.raises(CheckpointError, match="entities: 3 entities, above max_entities 2"):
        EntityWindows.from_checkpoint(document)


def test_a_checkpoint_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="checkpoint: expected a mapping, got list"):
        EntityWindows.from_checkpoint([])  # type: ignore[arg-type]
