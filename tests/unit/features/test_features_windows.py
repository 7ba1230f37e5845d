"""Windowed aggregates per entity: hand-worked tables, window edges, lateness, bounds."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from driftloop_features import DataRow, EntityWindows, FeatureBatch, compute_features
from driftloop_spec import AggregateFeature, DatasetSpec

from .helpers import column, event, spec_of

pytestmark = pytest.mark.unit

US = 1e-6  # one microsecond, in seconds


def aggregates(window: str = "10s") -> DatasetSpec:
    """count; sum, mean, max, min of an optional float ``v``; sum, mean of a bool ``w``."""
    return spec_of(
        {"v": {"type": "float", "required": False}, "w": {"type": "bool", "required": False}},
        [
            {"name": "n", "transform": "aggregate", "fn": "count", "window": window},
            *(
                {"name": fn, "transform": "aggregate", "fn": fn, "field": "v", "window": window}
                for fn in ("sum", "mean", "max", "min")
            ),
            {
                "name": "w_sum",
                "transform": "aggregate",
                "fn": "sum",
                "field": "w",
                "window": window,
            },
            {
                "name": "w_mean",
                "transform": "aggregate",
                "fn": "mean",
                "field": "w",
                "window": window,
            },
        ],
    )


def rows_of(batch: FeatureBatch, *names: str) -> list[list[float]]:
    """The batch's rows restricted to some columns, in that order."""
    return [list(row) for row in zip(*(column(batch, name) for name in names), strict=True)]


def serve(spec: DatasetSpec, windows: EntityWindows, events: Sequence[DataRow]) -> FeatureBatch:
    return compute_features(spec, events, windows)


def test_every_statistic_by_hand_with_the_window_edges() -> None:
    # Window (t - 10s, t]. Entity b's events sit in between and never mix with a's.
    events = [
        event("a1", "a", 0, v=4.0),  # (-10, 0]: {a1}
        event("b1", "b", 1, v=100.0),  # b alone
        event("a2", "a", 5, v=-2.0),  # (-5, 5]: {a1, a2}
        event("a3", "a", 10),  # (0, 10]: a1 at exactly 10s older is out; a3 lacks v
        event("a4", "a", 12, v=6.0),  # (2, 12]: {a2, a3, a4}
        event("a5", "a", 20, v=1.0),  # (10, 20]: a3 at exactly 10s older is out
        event("a6", "a", 31),  # (21, 31]: {a6}, which lacks v: the v window is empty
        event("b2", "b", 10.999999, v=1.0),  # (0.999999, 10.999999]: b1 a microsecond inside
        event("b3", "b", 11, v=2.0),  # (1, 11]: b1 out
    ]
    batch = serve(aggregates(), EntityWindows(), events)
    assert rows_of(batch, "n", "sum", "mean", "max", "min") == [
        [1.0, 4.0, 4.0, 4.0, 4.0],
        [1.0, 100.0, 100.0, 100.0, 100.0],
        [2.0, 2.0, 1.0, 4.0, -2.0],
        [2.0, -2.0, -2.0, -2.0, -2.0],
        [3.0, 4.0, 2.0, 6.0, -2.0],
        [2.0, 7.0, 3.5, 6.0, 1.0],
        [1.0, 0.0, 0.0, 0.0, 0.0],
        [2.0, 101.0, 50.5, 100.0, 1.0],
        [2.0, 3.0, 1.5, 2.0, 1.0],
    ]
    assert batch.arrivals == ("on_time",) * 9


def test_a_boolean_sums_and_averages_as_zero_one() -> None:
    events = [
        event("a1", seconds=0, w=True),
        event("a2", seconds=1, w=False),
        event("a3", seconds=2),
        event("a4", seconds=3, w=True),
    ]
    batch = serve(aggregates(), EntityWindows(), events)
    assert rows_of(batch, "n", "w_sum", "w_mean") == [
        [1.0, 1.0, 1.0],
        [2.0, 1.0, 0.5],
        [3.0, 1.0, 0.5],  # a3 lacks w: counted by count only
        [4.0, 2.0, 2 / 3],
    ]


def test_events_at_the_same_time_see_those_that_arrived_before() -> None:
    events = [
        event("a1", seconds=5, v=1.0),
        event("a2", seconds=5, v=2.0),
        event("a3", seconds=5, v=4.0),
    ]
    batch = serve(aggregates(), EntityWindows(), events)
    assert rows_of(batch, "n", "sum") == [[1.0, 1.0], [2.0, 3.0], [3.0, 7.0]]
    assert batch.arrivals == ("on_time",) * 3


def test_a_late_event_within_the_lateness_is_inserted_in_event_time_order() -> None:
    windows = EntityWindows(lateness=5)
    first = serve(
        aggregates(),
        windows,
        [
            event("a1", seconds=0, v=1.0),
            event("a2", seconds=8, v=2.0),
            event("a3", seconds=20, v=4.0),
        ],
    )
    assert rows_of(first, "n", "sum") == [[1.0, 1.0], [2.0, 3.0], [1.0, 4.0]]
    second = serve(
        aggregates(),
        windows,
        [
            event("a4", seconds=16, v=8.0),  # 4s behind a3: (6, 16] = {a2, a4}; a3 is after it
            event("a5", seconds=15, v=16.0),  # exactly 5s behind: still late, (5, 15] = {a2, a5}
            event("a6", seconds=22, v=32.0),  # (12, 22] = {a5, a4, a3, a6}: the late ones count
        ],
    )
    assert rows_of(second, "n", "sum", "max", "min") == [
        [2.0, 10.0, 8.0, 2.0],
        [2.0, 18.0, 16.0, 2.0],
        [4.0, 60.0, 32.0, 4.0],
    ]
    assert second.arrivals == ("late", "late", "on_time")
    assert second.stats.late == 2
    assert second.stats.too_late == 0
    assert windows.late == 2
    # a3 was served before a4 arrived and is not recomputed: its row above stays [1, 4].


def test_an_event_beyond_the_lateness_is_served_from_what_is_held_and_not_kept() -> None:
    windows = EntityWindows(lateness=5)
    spec = aggregates()
    serve(
        spec,
        windows,
        [
            event("a1", seconds=0, v=1.0),
            event("a2", seconds=8, v=2.0),
            event("a3", seconds=16, v=4.0),
            event("a4", seconds=22, v=8.0),  # keeps (22 - 10 - 5, 22] = (7, 22]: a1 is dropped
        ],
    )
    late = serve(
        spec,
        windows,
        [
            event("x1", seconds=16.999999, v=16.0),  # 5s + 1us behind: too late
            event("x2", seconds=3, v=32.0),  # (-7, 3] held: nothing (a1 was dropped) + itself
            event("a5", seconds=23, v=64.0),  # (13, 23] = {a3, a4, a5}: x1, x2 were not kept
        ],
    )
    assert rows_of(late, "n", "sum", "max") == [
        [3.0, 22.0, 16.0],  # (6.999999, 16.999999]: a2, a3, itself
        [1.0, 32.0, 32.0],
        [3.0, 76.0, 64.0],
    ]
    assert late.arrivals == ("too_late", "too_late", "on_time")
    assert (late.stats.too_late, late.stats.late) == (2, 0)
    assert windows.too_late == 2
    assert windows.events_held == 3  # a3, a4, a5: a5 moved the bound to (8, 23]


def test_a_replayed_event_is_served_but_never_counted_twice() -> None:
    windows = EntityWindows(lateness=5)
    spec = aggregates()
    serve(spec, windows, [event("a1", seconds=0, v=1.0), event("a2", seconds=4, v=2.0)])
    again = serve(
        spec,
        windows,
        [
            event("a1", seconds=0, v=1.0),  # the window ending at a1 as held now: {a1}
            event("a2", seconds=4, v=2.0),
            event("a3", seconds=6, v=4.0),
        ],
    )
    assert rows_of(again, "n", "sum") == [[1.0, 1.0], [2.0, 3.0], [3.0, 7.0]]
    assert again.arrivals == ("duplicate", "duplicate", "on_time")
    assert again.stats.duplicates == 2
    assert windows.events_held == 3


def test_the_same_id_at_another_time_is_another_event() -> None:
    windows = EntityWindows()
    batch = serve(
        aggregates(), windows, [event("a1", seconds=0, v=1.0), event("a1", seconds=1, v=1.0)]
    )
    assert column(batch, "n") == [1.0, 2.0]
    assert batch.stats.duplicates == 0


def test_the_least_recently_updated_entity_is_evicted() -> None:
    windows = EntityWindows(max_entities=2)
    spec = aggregates()
    batch = serve(
        spec,
        windows,
        [
            event("a1", "a", 0, v=1.0),
            event("b1", "b", 1, v=1.0),
            event("a2", "a", 2, v=1.0),  # a is now more recent than b
            event("c1", "c", 3, v=1.0),  # evicts b
            event("a3", "a", 4, v=1.0),  # a kept its events
            event("b2", "b", 5, v=1.0),  # b starts over; evicts c (a was updated after it)
        ],
    )
    assert column(batch, "n") == [1.0, 1.0, 2.0, 1.0, 3.0, 1.0]
    assert batch.stats.evicted == 2
    assert windows.evictions == 2
    assert len(windows) == 2
    assert "a" in windows
    assert "b" in windows
    assert "c" not in windows


def test_each_entity_holds_only_the_largest_window_plus_the_lateness() -> None:
    spec = spec_of(
        {"v": {"type": "float"}},
        [
            {"name": "n_short", "transform": "aggregate", "fn": "count", "window": "3s"},
            {"name": "n_long", "transform": "aggregate", "fn": "count", "window": "10s"},
            {"name": "v_max", "transform": "aggregate", "fn": "max", "field": "v", "window": "3s"},
        ],
    )
    windows = EntityWindows(lateness=5)
    batch = serve(spec, windows, [event(f"e{s}", seconds=s, v=float(s)) for s in range(100)])
    assert windows.events_held == 15  # times in (99 - 15, 99]
    assert column(batch, "n_long")[-1] == 10.0
    assert column(batch, "n_short")[-1] == 3.0
    assert column(batch, "v_max")[-1] == 99.0
    checkpoint = windows.to_checkpoint()
    assert len(checkpoint["entities"][0]["times"]) == 15
    assert len(checkpoint["entities"][0]["series"][0]["values"]) == 15


def test_batch_boundaries_do_not_change_anything() -> None:
    events = [
        event(f"e{i}", "ab"[i % 2], seconds, v=float(i))
        for i, seconds in enumerate([0, 1, 3, 2, 9, 14, 12, 13, 30, 25, 31, 31])
    ]
    spec = aggregates("5s")
    whole = serve(spec, EntityWindows(lateness=3), events)
    windows = EntityWindows(lateness=3)
    pieces = [serve(spec, windows, events[i : i + 1]) for i in range(len(events))]
    assert [piece.values.tolist()[0] for piece in pieces] == whole.values.tolist()
    assert tuple(a for piece in pieces for a in piece.arrivals) == whole.arrivals


def test_the_same_events_in_the_same_order_give_the_same_features_and_state() -> None:
    events = [event(f"e{i}", f"k{i % 3}", (i * 7) % 11, v=i / 3) for i in range(40)]
    spec = aggregates("4s")
    runs = []
    for _ in range(2):
        windows = EntityWindows(max_entities=2, lateness=2)
        runs.append((serve(spec, windows, events), windows.to_checkpoint()))
    (first, state_1), (second, state_2) = runs
    assert first.values.tobytes() == second.values.tobytes()
    assert first.arrivals == second.arrivals
    assert state_1 == state_2


def test_a_changed_lateness_applies_from_the_next_event_on() -> None:
    windows = EntityWindows(lateness=5)
    spec = aggregates()
    serve(
        spec,
        windows,
        [
            event("a1", seconds=5, v=1.0),
            event("a2", seconds=8, v=2.0),
            event("a3", seconds=22, v=4.0),  # keeps (22 - 10 - 5, 22] = (7, 22]: a1 is dropped
        ],
    )
    windows.lateness = 10  # a new spec version's lateness
    later = serve(
        spec,
        windows,
        [
            event("x1", seconds=12.5, v=8.0),  # 9.5s behind: late now, too late before
            event("a4", seconds=22, v=16.0),  # (12, 22] = {x1, a3, a4}: x1 was kept
        ],
    )
    assert later.arrivals == ("late", "on_time")
    # x1's window (2.5, 12.5] lacks a1, which the shorter bound had already dropped.
    assert rows_of(later, "n", "sum") == [[2.0, 10.0], [3.0, 28.0]]
    assert (windows.lateness, windows.late, windows.too_late) == (10, 1, 0)


def test_windows_refuse_bad_bounds() -> None:
    with pytest.raises(ValueError, match="max_entities must be at least 1"):
        EntityWindows(max_entities=0)
    with pytest.raises(ValueError, match="lateness must be at least 0"):
        EntityWindows(lateness=-1)
    windows = EntityWindows()
    with pytest.raises(ValueError, match="lateness must be at least 0"):
        windows.lateness = -1
    assert windows.lateness == 300


def test_serve_refuses_a_batch_that_does_not_add_up() -> None:
    spec = aggregates()
    features = [f for f in spec.features if isinstance(f, AggregateFeature)]
    windows = EntityWindows()
    with pytest.raises(ValueError, match=r"no values given for aggregated fields \['v', 'w'\]"):
        windows.serve(features, ["a"], ["e1"], [0], {})
    with pytest.raises(ValueError, match=r"differ in length: \[1, 2\]"):
        windows.serve(features, ["a", "b"], ["e1", "e2"], [0, 1], {"v": [1.0], "w": [0.0]})
    served = windows.serve(features, ["a"], ["e1"], [0], {"v": [2.0], "w": [float("nan")]})
    assert served.values.tolist() == [[1.0, 2.0, 2.0, 2.0, 2.0, 0.0, 0.0]]
