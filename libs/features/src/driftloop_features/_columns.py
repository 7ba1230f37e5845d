"""A batch's input columns: each field read out of the events once, as a numpy array."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import repeat
from operator import is_

import numpy as np
import numpy.typing as npt

from driftloop_features.events import DataEventLike, FieldValue, event_times_us

__all__ = ["FloatArray", "Inputs", "Int64Array", "ObjectArray"]

FloatArray = npt.NDArray[np.float64]
Int64Array = npt.NDArray[np.int64]
ObjectArray = npt.NDArray[np.object_]


class Inputs:
    """The input columns of one batch, built on first use and reused by every feature.

    A missing value (absent or null) is ``NaN`` in a numeric column and ``None`` in a text one.
    ``unfilled`` counts the missing values read where the feature had no ``fill`` (a field the
    spec requires but an event lacks, e.g. one validated against an older spec version); they
    are read as 0.
    """

    def __init__(self, events: Sequence[DataEventLike]) -> None:
        self.size = len(events)
        self.event_ids = [event.event_id for event in events]
        self.entity_ids = [event.entity_id for event in events]
        self.times_list = event_times_us(events)
        self.times_us: Int64Array = np.array(self.times_list, dtype=np.int64)
        self.unfilled = 0
        self._fields: list[Mapping[str, FieldValue]] = [event.fields for event in events]
        self._raw: dict[str, list[FieldValue]] = {}
        self._numbers: dict[str, FloatArray] = {}
        self._texts: dict[str, ObjectArray] = {}

    def raw(self, name: str) -> list[FieldValue]:
        """Return the field's values as the events carry them, ``None`` where missing."""
        column = self._raw.get(name)
        if column is None:
            column = self._raw[name] = [fields.get(name) for fields in self._fields]
        return column

    def numbers(self, name: str) -> FloatArray:
        """Return the field as float64 (booleans as 0/1), ``NaN`` where it is missing."""
        column = self._numbers.get(name)
        if column is None:
            raw = self.raw(name)
            # numpy would read "1.5" as 1.5; a number never comes from a string here.
            if str in set(map(type, raw)):
                bad = next(v for v in raw if isinstance(v, str))
                raise ValueError(f"field {name!r} is not numeric: got {bad!r}")
            column = np.array(raw, dtype=np.float64)
            self._numbers[name] = column
        return column

    def filled(self, name: str, fill: float | None) -> FloatArray:
        """Return the numeric field with missing values replaced by ``fill`` (0 if none)."""
        column = self.numbers(name)
        missing = np.isnan(column)
        if not missing.any():
            return column
        if fill is None:
            self.unfilled += int(missing.sum())
        return np.where(missing, 0.0 if fill is None else fill, column)

    def absent(self, name: str) -> npt.NDArray[np.bool_]:
        """Return where the field is missing (absent or null)."""
        found = map(is_, self.raw(name), repeat(None, self.size))
        return np.fromiter(found, dtype=np.bool_, count=self.size)

    def texts(self, name: str) -> ObjectArray:
        """Return the field as an object array, ``None`` where it is missing."""
        column = self._texts.get(name)
        if column is None:
            column = np.empty(self.size, dtype=np.object_)
            column[:] = self.raw(name)
            self._texts[name] = column
        return column
