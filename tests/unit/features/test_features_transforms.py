"""Per-event transforms on small tables whose expected values are worked out by hand."""

from __future__ import annotations

import math
from typing import Any

import pytest

from driftloop_features import EntityWindows, FeatureBatch, compute_features

from .helpers import column, event, spec_of

pytestmark = pytest.mark.unit

FIELDS: dict[str, Any] = {
    "x": {"type": "float", "nullable": True},
    "n": {"type": "int", "min": 0},
    "flag": {"type": "bool"},
    "seen": {"type": "bool"},
    "plan": {"type": "category", "values": ["free", "pro", "team"]},
    "region": {"type": "category", "nullable": True},
    "note": {"type": "string", "required": False},
}

FEATURES: list[dict[str, Any]] = [
    {"name": "x_raw", "transform": "passthrough", "field": "x", "fill": -1},
    {"name": "flag", "transform": "passthrough", "field": "flag"},
    {"name": "n_log", "transform": "log1p", "field": "n"},
    {"name": "n_z", "transform": "standard_scale", "field": "n", "mean": 4, "std": 2},
    {"name": "x_clip", "transform": "clip", "field": "x", "lower": 0, "upper": 10, "fill": 5},
    {"name": "plan", "transform": "one_hot", "field": "plan", "categories": ["pro", "free"]},
    {"name": "region", "transform": "ordinal", "field": "region", "categories": ["eu", "us"]},
    {"name": "same_place", "transform": "compare", "left": "note", "op": "==", "right": "region"},
    {"name": "moved", "transform": "compare", "left": "note", "op": "!=", "right": "region"},
    {"name": "x_over_n", "transform": "compare", "left": "x", "op": ">", "right": "n"},
    {"name": "x_not_n", "transform": "compare", "left": "x", "op": "!=", "right": "n"},
    {"name": "flag_is_seen", "transform": "compare", "left": "flag", "op": "==", "right": "seen"},
]

# x     n  flag   seen   plan    region  note
ROWS = [
    event("e1", x=2.5, n=0, flag=True, seen=True, plan="free", region="us", note="us"),
    event("e2", x=None, n=1, flag=False, seen=True, plan="team", region=None),
    event("e3", x=12.5, n=9, flag=False, seen=False, plan="pro", region="apac", note="eu"),
    event("e4", x=-3.0, n=3, flag=True, seen=False, plan="free", region="eu", note="eu"),
]


@pytest.fixture(scope="module")
def batch() -> FeatureBatch:
    return compute_features(spec_of(FIELDS, FEATURES), ROWS, EntityWindows())


def test_columns_follow_the_spec_and_one_hot_follows_its_categories(batch: FeatureBatch) -> None:
    assert batch.columns == (
        "x_raw",
        "flag",
        "n_log",
        "n_z",
        "x_clip",
        "plan:pro",
        "plan:free",
        "plan:__unknown__",
        "region",
        "same_place",
        "moved",
        "x_over_n",
        "x_not_n",
        "flag_is_seen",
    )
    assert batch.values.shape == (4, 14)
    assert batch.values.dtype.name == "float64"
    assert batch.event_ids == ("e1", "e2", "e3", "e4")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("x_raw", [2.5, -1.0, 12.5, -3.0]),  # null -> fill
        ("flag", [1.0, 0.0, 0.0, 1.0]),  # a boolean as 0/1
        ("n_z", [-2.0, -1.5, 2.5, -0.5]),  # (n - 4) / 2
        ("x_clip", [2.5, 5.0, 10.0, 0.0]),  # null -> fill 5, then clipped to [0, 10]
        ("plan:pro", [0.0, 0.0, 1.0, 0.0]),
        ("plan:free", [1.0, 0.0, 0.0, 1.0]),
        ("plan:__unknown__", [0.0, 1.0, 0.0, 0.0]),  # "team" is not among the categories
        ("region", [1.0, -1.0, -1.0, 0.0]),  # null and "apac" -> -1
        ("same_place", [1.0, 0.0, 0.0, 1.0]),  # a missing side -> 0
        ("moved", [0.0, 0.0, 1.0, 0.0]),  # a missing side -> 0, also for !=
        ("x_over_n", [1.0, 0.0, 1.0, 0.0]),
        ("x_not_n", [1.0, 0.0, 1.0, 1.0]),  # null x -> 0, not "NaN != 1"
        ("flag_is_seen", [1.0, 0.0, 1.0, 0.0]),
    ],
)
def test_each_transform_by_hand(batch: FeatureBatch, name: str, expected: list[float]) -> None:
    assert column(batch, name) == expected


def test_log1p_by_hand(batch: FeatureBatch) -> None:
    assert column(batch, "n_log") == pytest.approx(
        [0.0, math.log(2), math.log(10), math.log(4)], rel=1e-15
    )


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("==", [0.0, 1.0, 0.0, 0.0, 0.0]),
        ("!=", [1.0, 0.0, 1.0, 0.0, 0.0]),
        ("<", [1.0, 0.0, 0.0, 0.0, 0.0]),
        ("<=", [1.0, 1.0, 0.0, 0.0, 0.0]),
        (">", [0.0, 0.0, 1.0, 0.0, 0.0]),
        (">=", [0.0, 1.0, 1.0, 0.0, 0.0]),
    ],
)
def test_every_comparison_and_missing_sides(op: str, expected: list[float]) -> None:
    spec = spec_of(
        {"a": {"type": "float", "nullable": True}, "b": {"type": "int", "required": False}},
        [{"name": "cmp", "transform": "compare", "left": "a", "op": op, "right": "b"}],
    )
    rows = [
        event("e1", a=1.0, b=2),
        event("e2", a=2.0, b=2),
        event("e3", a=3.0, b=2),
        event("e4", a=None, b=1),
        event("e5", a=1.0),  # b absent
    ]
    assert column(compute_features(spec, rows, EntityWindows()), "cmp") == expected


def test_absent_and_null_both_take_the_fill() -> None:
    spec = spec_of(
        {"v": {"type": "float", "required": False, "nullable": True}},
        [
            {"name": "raw", "transform": "passthrough", "field": "v", "fill": 7},
            {"name": "log", "transform": "log1p", "field": "v", "fill": 0},
            {
                "name": "z",
                "transform": "standard_scale",
                "field": "v",
                "mean": 1,
                "std": 4,
                "fill": 9,
            },
        ],
    )
    rows = [event("e1", v=3.0), event("e2", v=None), event("e3")]
    batch = compute_features(spec, rows, EntityWindows())
    assert column(batch, "raw") == [3.0, 7.0, 7.0]
    assert column(batch, "log") == pytest.approx([math.log(4), 0.0, 0.0], rel=1e-15)
    assert column(batch, "z") == [0.5, 2.0, 2.0]  # (3 - 1) / 4, and the fill 9 scaled: (9 - 1) / 4
    assert batch.stats.unfilled == 0


def test_one_hot_puts_missing_and_other_values_in_the_unknown_bucket() -> None:
    spec = spec_of(
        {"c": {"type": "string", "required": False}},
        [{"name": "c", "transform": "one_hot", "field": "c", "categories": ["b", "a"]}],
    )
    rows = [
        event("e1", c="a"),
        event("e2", c="b"),
        event("e3", c="z"),
        event("e4"),
        event("e5", c="A"),
    ]
    batch = compute_features(spec, rows, EntityWindows())
    assert batch.columns == ("c:b", "c:a", "c:__unknown__")
    assert batch.values.tolist() == [
        [0.0, 1.0, 0.0],
        [1.0, 0.0, 0.0],
        [0.0, 0.0, 1.0],
        [0.0, 0.0, 1.0],
        [0.0, 0.0, 1.0],  # categories are case-sensitive
    ]


def test_log1p_reads_a_negative_value_as_zero() -> None:
    spec = spec_of({"d": {"type": "float"}}, [{"name": "d", "transform": "log1p", "field": "d"}])
    rows = [event("e1", d=-0.5), event("e2", d=-1.0), event("e3", d=-7.0)]
    assert column(compute_features(spec, rows, EntityWindows()), "d") == [0.0, 0.0, 0.0]


def test_a_required_field_an_event_lacks_reads_as_zero_and_is_counted() -> None:
    spec = spec_of(
        {"v": {"type": "float"}},
        [
            {"name": "raw", "transform": "passthrough", "field": "v"},
            {"name": "z", "transform": "standard_scale", "field": "v", "mean": 2, "std": 2},
        ],
    )
    batch = compute_features(spec, [event("e1", v=4.0), event("e2")], EntityWindows())
    assert column(batch, "raw") == [4.0, 0.0]
    assert column(batch, "z") == [1.0, -1.0]
    assert batch.stats.unfilled == 2  # once per feature that read it


def test_integers_and_booleans_are_numbers() -> None:
    spec = spec_of(
        {"i": {"type": "int"}, "b": {"type": "bool"}},
        [
            {"name": "i", "transform": "passthrough", "field": "i"},
            {"name": "b", "transform": "passthrough", "field": "b"},
            {"name": "i_clip", "transform": "clip", "field": "i", "lower": -2, "upper": 2},
        ],
    )
    rows = [
        event("e1", i=-5, b=False),
        event("e2", i=1, b=True),
        event("e3", i=9007199254740993, b=True),
    ]
    batch = compute_features(spec, rows, EntityWindows())
    assert column(batch, "i") == [-5.0, 1.0, 9007199254740992.0]  # float64 rounds past 2**53
    assert column(batch, "b") == [0.0, 1.0, 1.0]
    assert column(batch, "i_clip") == [-2.0, 1.0, 2.0]


def test_a_string_in_a_numeric_field_is_an_error_naming_it() -> None:
    spec = spec_of(
        {"v": {"type": "float"}}, [{"name": "v", "transform": "passthrough", "field": "v"}]
    )
    with pytest.raises(ValueError, match=r"field 'v' is not numeric: got '1.5'"):
        compute_features(spec, [event("e1", v=1.0), event("e2", v="1.5")], EntityWindows())
