"""Reading labelled rows from the offline store the feature service writes (``offline_rows``).

Only rows in the current spec's columns count (``feature_names`` equal to
``spec.feature_columns()``): a row served under other columns cannot be fed to this spec's
model. The feature service owns the collection and its ``dataset, occurred_at`` index.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pandas as pd
from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from driftloop_runtime.mongo import Document
from driftloop_trainer.dataset import labelled_frame

__all__ = ["OfflineRows"]

_FIELDS = {
    "_id": False,
    "occurred_at": True,
    "subject_event_id": True,
    "label": True,
    "values": True,
}


class OfflineRows:
    """The labelled rows of the offline store."""

    def __init__(self, database: AsyncDatabase[Document], *, max_rows: int) -> None:
        """Read ``offline_rows`` of ``database``, at most ``max_rows`` per window."""
        self._rows = database["offline_rows"]
        self._max_rows = max_rows

    async def count(
        self,
        dataset: str,
        columns: Sequence[str],
        *,
        up_to: int,
        since: datetime | None = None,
    ) -> int:
        """How many labelled rows of ``dataset`` in ``columns`` exist (with an event time from
        ``since`` on, if given), counting no further than ``up_to`` (the callers ask whether
        there are enough, not how many)."""
        query = _labelled(dataset, columns)
        if since is not None:
            query["occurred_at"] = {"$gte": since}
        return await self._rows.count_documents(query, limit=up_to)

    async def window(self, dataset: str, columns: Sequence[str], window: timedelta) -> pd.DataFrame:
        """The labelled rows of the ``window`` that ends at the newest labelled row, the most
        recent ``max_rows`` of them, as a frame (``dataset.labelled_frame``)."""
        query = _labelled(dataset, columns)
        newest = await self._rows.find_one(
            query, {"occurred_at": True}, sort=[("occurred_at", DESCENDING)]
        )
        if newest is None:
            return labelled_frame([], columns)
        query["occurred_at"] = {"$gte": newest["occurred_at"] - window}
        cursor = self._rows.find(query, _FIELDS).sort("occurred_at", DESCENDING)
        return labelled_frame(await cursor.limit(self._max_rows).to_list(), columns)


def _labelled(dataset: str, columns: Sequence[str]) -> Document:
    return {"dataset": dataset, "label": {"$ne": None}, "feature_names": list(columns)}
