"""One entity's held events, and the statistics of a window of them."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

__all__ = ["Entity", "Series", "window_row"]


class Series:
    """One field's ``(time, value)`` pairs of an entity, sorted by time."""

    __slots__ = ("times", "values")

    def __init__(self, times: list[int], values: list[float]) -> None:
        self.times = times
        self.values = values


class Entity:
    """One entity's accepted events: times and ids sorted by time, and a series per field."""

    __slots__ = ("ids", "series", "times")

    def __init__(self, times: list[int], ids: list[str], series: dict[str, Series]) -> None:
        self.times = times
        self.ids = ids
        self.series = series

    def holds(self, event_id: str, time_us: int) -> bool:
        """Whether the event id is held at that time (ids are only looked up among equal times)."""
        end = bisect_right(self.times, time_us)
        index = end - 1
        while index >= 0 and self.times[index] == time_us:
            if self.ids[index] == event_id:
                return True
            index -= 1
        return False

    def insert(self, event_id: str, time_us: int, present: list[tuple[str, float]]) -> None:
        """Insert an event after every held event at the same time."""
        index = bisect_right(self.times, time_us)
        self.times.insert(index, time_us)
        self.ids.insert(index, event_id)
        for name, value in present:
            series = self.series.get(name)
            if series is None:
                self.series[name] = Series([time_us], [value])
            else:
                at = bisect_right(series.times, time_us)
                series.times.insert(at, time_us)
                series.values.insert(at, value)

    def remove(self, time_us: int, present: list[tuple[str, float]]) -> None:
        """Undo ``insert`` of the same event (it is the last held at its time)."""
        index = bisect_right(self.times, time_us) - 1
        del self.times[index], self.ids[index]
        for name, _ in present:
            series = self.series[name]
            at = bisect_right(series.times, time_us) - 1
            del series.times[at], series.values[at]

    def prune(self, cutoff_us: int) -> int:
        """Drop every event at or before ``cutoff_us``; return how many events were dropped."""
        if not self.times or self.times[0] > cutoff_us:
            return 0
        count = bisect_right(self.times, cutoff_us)
        del self.times[:count], self.ids[:count]
        for series in self.series.values():
            if series.times and series.times[0] <= cutoff_us:
                at = bisect_right(series.times, cutoff_us)
                del series.times[:at], series.values[:at]
        return count


def window_row(
    entity: Entity, plan: Sequence[tuple[str, str | None, int]], time: int
) -> list[float]:
    """Each aggregate of the entity's events in ``(time - window, time]``."""
    row: list[float] = []
    for fn, name, window in plan:
        if name is None:
            row.append(_statistic(fn, entity.times, None, time - window, time))
            continue
        series = entity.series.get(name)
        if series is None:
            row.append(0.0)
        else:
            row.append(_statistic(fn, series.times, series.values, time - window, time))
    return row


def _statistic(fn: str, times: list[int], values: list[float] | None, low: int, high: int) -> float:
    """The aggregate of the events with times in ``(low, high]``; 0 when there are none."""
    start = bisect_right(times, low)
    # Served on time, the event is the newest: the window ends at the end of the list.
    end = len(times) if times and times[-1] <= high else bisect_right(times, high)
    if end <= start:
        return 0.0
    if values is None:  # count
        return float(end - start)
    if fn == "sum":
        return sum(values[start:end])
    if fn == "mean":
        return sum(values[start:end]) / (end - start)
    if fn == "max":
        return max(values[start:end])
    return min(values[start:end])
