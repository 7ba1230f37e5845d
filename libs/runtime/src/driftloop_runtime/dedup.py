"""Bounded de-duplication of events by their event id."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

__all__ = ["Deduplicator"]


class Deduplicator:
    """Remembers the most recent ``capacity`` event ids and tells repeats apart.

    Memory stays bounded: past ``capacity`` the oldest id is forgotten, so a duplicate that
    arrives after more than ``capacity`` newer events passes as new. Size the capacity to the
    replay window that matters (a consumer restart re-delivers at most one uncommitted batch
    per partition).
    """

    def __init__(self, capacity: int) -> None:
        """Create an empty de-duplicator that keeps at most ``capacity`` ids."""
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self._capacity = capacity
        self._seen: OrderedDict[str, None] = OrderedDict()
        self.duplicates = 0

    def __len__(self) -> int:
        """Number of ids remembered now."""
        return len(self._seen)

    def __contains__(self, event_id: object) -> bool:
        """Whether ``event_id`` is remembered, without marking it."""
        return event_id in self._seen

    def first_time(self, event_id: str) -> bool:
        """Mark ``event_id`` as seen; ``True`` the first time, ``False`` for a duplicate."""
        if event_id in self._seen:
            self._seen.move_to_end(event_id)
            self.duplicates += 1
            return False
        self._seen[event_id] = None
        if len(self._seen) > self._capacity:
            self._seen.popitem(last=False)
        return True

    def new_only(self, event_ids: Iterable[str]) -> list[bool]:
        """For each id in order, whether it is new (repeats within the same batch included)."""
        return [self.first_time(event_id) for event_id in event_ids]
