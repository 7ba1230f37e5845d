from __future__ import annotations

import pytest

from driftloop_runtime import Deduplicator

pytestmark = pytest.mark.unit


def test_repeats_are_told_apart_and_counted() -> None:
    dedup = Deduplicator(capacity=10)
    assert dedup.new_only(["a", "b", "a", "c", "b"]) == [True, True, False, True, False]
    assert dedup.duplicates == 2
    assert len(dedup) == 3


def test_memory_is_bounded_and_the_oldest_id_is_forgotten_first() -> None:
    dedup = Deduplicator(capacity=3)
    dedup.new_only(["a", "b", "c", "d"])
    assert len(dedup) == 3
    assert "a" not in dedup
    assert dedup.first_time("a") is True  # forgotten, so it passes as new


def test_a_repeat_refreshes_an_id_so_it_is_kept_longer() -> None:
    dedup = Deduplicator(capacity=2)
    dedup.new_only(["a", "b", "a", "c"])  # "a" was seen again after "b": "b" goes first
    assert "a" in dedup
    assert "b" not in dedup


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="capacity must be at least 1"):
        Deduplicator(capacity=0)
