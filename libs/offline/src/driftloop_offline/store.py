"""The offline store in MongoDB: served feature rows and labels, appended; joined when read.

Guarantee: training reads exactly the features that were served, each with the latest label
that may join it (``driftloop_offline.join``), whatever order rows and labels came in.

- Writes are inserts in bulk, one round trip per batch and collection; nothing is updated per
  row or label, so a label costs the same whether its row came first or not and however large
  the collections are. A replayed row or label has the same ``_id`` and is skipped.
- Reads use ranges of a ``dataset, occurred_at`` index only. The embedded document store
  materialises every match before it applies a limit, and its ``$in`` slows with the square of
  the list's length, so the reader slices time ranges newest first and looks rows up by ``_id``
  in small chunks.
- A label whose row never came expires ``label_wait`` after it was stored and is counted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from typing import Any

import numpy as np
import pandas as pd
from bson import Binary
from pymongo import ASCENDING, IndexModel, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from driftloop_contracts import FeaturesComputed, OutcomeValidated
from driftloop_offline.join import LABEL, LABEL_ID, LABEL_TIME, SUBJECT, TIME, join_labels
from driftloop_runtime.mongo import Document, IndexPlan
from driftloop_spec import LatenessSpec

__all__ = [
    "INDEXES",
    "LabelJoin",
    "OfflineReader",
    "OfflineWriter",
    "columns_digest",
    "label_document",
    "labels_between",
    "labels_received",
    "row_document",
    "rows_between",
]

ROWS, LABELS, MARKS = "offline_features", "offline_labels", "offline_marks"
DUPLICATE_KEY = 11000
LOOKUP_CHUNK = 50  # ids per `_id $in`: the embedded store's $in cost grows with the square
EXPIRY = "label-expiry"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

INDEXES: IndexPlan = {
    ROWS: [IndexModel([("dataset", ASCENDING), ("occurred_at", ASCENDING)], name="dataset_time")],
    LABELS: [
        IndexModel([("dataset", ASCENDING), ("occurred_at", ASCENDING)], name="dataset_time"),
        IndexModel([("received_at", ASCENDING)], name="received_at"),
    ],
    MARKS: [],
}


@dataclass(frozen=True)
class LabelJoin:
    """How far a label's event time may be from its row's and still join it."""

    early: timedelta
    late: timedelta

    @classmethod
    def of(cls, lateness: LatenessSpec) -> LabelJoin:
        """The join of a spec's lateness: ``events`` early, ``labels`` late."""
        return cls(timedelta(seconds=lateness.events), timedelta(seconds=lateness.labels))

    def admits(self, row_time: datetime, label_time: datetime) -> bool:
        """Whether a label stamped ``label_time`` may join a row of ``row_time``."""
        return row_time - self.early <= label_time <= row_time + self.late


def columns_digest(columns: Sequence[str]) -> str:
    """A short digest of feature column names in order: rows store it instead of the names."""
    return sha256("\x1f".join(columns).encode()).hexdigest()[:16]


def row_document(vector: FeaturesComputed, served_at: datetime) -> Document:
    """The offline-store row of a served feature vector (values as little-endian float64)."""
    return {
        "_id": _key(vector.dataset, vector.subject_event_id),
        "dataset": vector.dataset,
        "subject_event_id": vector.subject_event_id,
        "entity_id": vector.entity_id,
        "occurred_at": vector.occurred_at,
        "spec_version": vector.spec_version,
        "columns": columns_digest(vector.feature_names),
        "values": Binary(np.asarray(vector.values, dtype="<f8").tobytes()),
        "vector_event_id": vector.event_id,
        "served_at": served_at,
    }


def label_document(
    dataset: str,
    subject_event_id: str,
    label: Any,
    *,
    label_event_id: str,
    occurred_at: datetime,
    received_at: datetime,
) -> Document:
    """The offline-store record of one label (an outcome's, or a data event's own)."""
    return {
        "_id": _key(dataset, label_event_id),
        "dataset": dataset,
        "subject_event_id": subject_event_id,
        "label": label,
        "label_event_id": label_event_id,
        "occurred_at": occurred_at,
        "received_at": received_at,
    }


class OfflineWriter:
    """Appends served rows and labels; expires labels whose row never came."""

    def __init__(self, database: AsyncDatabase[Document], *, label_wait: timedelta) -> None:
        """Write to ``database``; a label without a row expires ``label_wait`` after it came."""
        self._rows = database[ROWS]
        self._labels = database[LABELS]
        self._marks = database[MARKS]
        self._label_wait = label_wait
        self.labels_expired = 0

    async def add_rows(self, vectors: Sequence[FeaturesComputed], served_at: datetime) -> int:
        """Append a row per vector, and the label a vector carries (a backfilled event's).

        Returns how many rows were new (a replayed vector is skipped).
        """
        inline = [
            label_document(
                v.dataset,
                v.subject_event_id,
                v.label,
                label_event_id=v.subject_event_id,
                occurred_at=v.occurred_at,
                received_at=served_at,
            )
            for v in vectors
            if v.label is not None
        ]
        await _insert_new(self._labels, inline)
        inserted = await _insert_new(self._rows, [row_document(v, served_at) for v in vectors])
        await self._mark_newest("newest_row", [(v.dataset, v.occurred_at) for v in vectors])
        await self._mark_newest("newest_label", [(d["dataset"], d["occurred_at"]) for d in inline])
        return inserted

    async def add_labels(self, outcomes: Sequence[OutcomeValidated], received_at: datetime) -> int:
        """Append the label of each outcome; returns how many were new."""
        labels = [
            label_document(
                o.dataset,
                o.subject_event_id,
                o.label,
                label_event_id=o.event_id,
                occurred_at=o.occurred_at,
                received_at=received_at,
            )
            for o in outcomes
        ]
        inserted = await _insert_new(self._labels, labels)
        await self._mark_newest("newest_label", [(o.dataset, o.occurred_at) for o in outcomes])
        return inserted

    async def expire_labels(self, now: datetime) -> int:
        """Delete the labels stored before ``now - label_wait`` whose row has not come, once
        each: a replica claims the stretch of time since the last expiry before it looks, so
        two replicas never count one label twice. Returns how many expired."""
        horizon = now - self._label_wait
        await self._marks.update_one(
            {"_id": EXPIRY}, {"$setOnInsert": {"until": EPOCH}}, upsert=True
        )
        claimed = await self._marks.find_one_and_update(
            {"_id": EXPIRY, "until": {"$lt": horizon}}, {"$set": {"until": horizon}}
        )
        if claimed is None:
            return 0
        due = self._labels.find(
            labels_received(claimed["until"], horizon), {"dataset": True, "subject_event_id": True}
        )
        expired = 0
        for chunk in _chunks(await due.to_list(), LOOKUP_CHUNK):
            found = await _existing(
                self._rows, {_key(d["dataset"], d["subject_event_id"]) for d in chunk}
            )
            orphans = [
                d["_id"] for d in chunk if _key(d["dataset"], d["subject_event_id"]) not in found
            ]
            if orphans:
                expired += (await self._labels.delete_many({"_id": {"$in": orphans}})).deleted_count
        self.labels_expired += expired
        return expired

    async def _mark_newest(self, field: str, times: Iterable[tuple[str, datetime]]) -> None:
        """Keep each dataset's newest event time of ``field`` (one small write per batch): the
        reader finds a window's end there, as the store would otherwise read every row."""
        newest: dict[str, datetime] = {}
        for dataset, time in times:
            newest[dataset] = max(time, newest.get(dataset, time))
        if newest:
            await self._marks.bulk_write(
                [
                    UpdateOne({"_id": _mark(d)}, {"$max": {field: t}}, upsert=True)
                    for d, t in newest.items()
                ],
                ordered=False,
            )


class OfflineReader:
    """Reads labelled rows of a time window, and counts them, by index ranges only."""

    def __init__(
        self, database: AsyncDatabase[Document], *, max_rows: int, chunk_rows: int = 10_000
    ) -> None:
        """Read ``database``: at most ``max_rows`` per window, fetched ``chunk_rows`` at a time."""
        self._rows = database[ROWS]
        self._labels = database[LABELS]
        self._marks = database[MARKS]
        self._max_rows = max_rows
        self._chunk_rows = chunk_rows

    async def newest_row_time(self, dataset: str) -> datetime | None:
        """The event time of ``dataset``'s newest stored row, if it has any."""
        mark = await self._marks.find_one({"_id": _mark(dataset)})
        return None if mark is None else _utc(mark["newest_row"])

    async def window(
        self, dataset: str, columns: Sequence[str], join: LabelJoin, span: timedelta
    ) -> pd.DataFrame:
        """The labelled rows in ``columns`` of the ``span`` that ends at the newest row, the
        most recent ``max_rows`` of them, oldest first: ``TIME``, ``LABEL``, ``SUBJECT``, then
        one column per feature."""
        newest = await self.newest_row_time(dataset)
        if newest is None:
            return _empty(columns)
        kept: list[pd.DataFrame] = []
        held = 0
        async for chunk in self.chunks(dataset, columns, join, start=newest - span, end=newest):
            kept.append(chunk)
            held += len(chunk)
            if held > 2 * self._max_rows:  # trim as it streams: memory stays bounded
                kept, held = [pd.concat(kept).tail(self._max_rows)], self._max_rows
        if not kept:
            return _empty(columns)
        return pd.concat(kept, ignore_index=True).tail(self._max_rows).reset_index(drop=True)

    async def chunks(
        self,
        dataset: str,
        columns: Sequence[str],
        join: LabelJoin,
        *,
        start: datetime,
        end: datetime,
    ) -> AsyncIterator[pd.DataFrame]:
        """The labelled rows in ``columns`` with an event time in ``[start, end]``, a chunk of
        up to ``chunk_rows`` rows read at a time, each joined and in event-time order."""
        labels = await self._label_frame(dataset, start - join.early, end + join.late)
        if labels.empty:
            return
        early, late = pd.Timedelta(join.early), pd.Timedelta(join.late)
        digest = columns_digest(columns)
        fields = {"_id": False, "subject_event_id": True, "occurred_at": True}
        cursor = self._rows.find(
            rows_between(dataset, start, end), {**fields, "columns": True, "values": True}
        )
        by_subject = pd.Index(labels[SUBJECT])  # hashed once, looked up per chunk

        def joined(batch: list[Document]) -> pd.DataFrame:
            rows = _row_frame(batch, columns)
            found, _ = by_subject.get_indexer_non_unique(rows[SUBJECT])
            near = labels.iloc[found[found >= 0]]
            return join_labels(rows, near, early=early, late=late)

        batch: list[Document] = []
        async for row in cursor.sort("occurred_at", ASCENDING).batch_size(self._chunk_rows):
            if row["columns"] == digest:  # filtered here: a second condition makes a scan
                batch.append(row)
            if len(batch) == self._chunk_rows:
                yield joined(batch)
                batch = []
        if batch:
            yield joined(batch)

    async def count_labelled(
        self,
        dataset: str,
        columns: Sequence[str],
        join: LabelJoin,
        *,
        since: datetime,
        up_to: int,
    ) -> int:
        """How many rows in ``columns`` with an event time from ``since`` on have a label,
        counting no further than ``up_to``: the newest labels first, in time slices that
        double, each label's row looked up by id."""
        counted: set[str] = set()
        digest = columns_digest(columns)
        async for labels in self._labels_newest_first(dataset, since - join.early):
            for chunk in _chunks(labels, LOOKUP_CHUNK):
                rows = await self._rows.find(
                    {"_id": {"$in": sorted({_key(dataset, d["subject_event_id"]) for d in chunk})}},
                    {"occurred_at": True, "columns": True},
                ).to_list()
                times = {r["_id"]: _utc(r["occurred_at"]) for r in rows if r["columns"] == digest}
                counted |= {
                    d["subject_event_id"]
                    for d in chunk
                    if (t := times.get(_key(dataset, d["subject_event_id"]))) is not None
                    and t >= since
                    and join.admits(t, _utc(d["occurred_at"]))
                }
                if len(counted) >= up_to:
                    return up_to
        return len(counted)

    async def _labels_newest_first(
        self, dataset: str, floor: datetime
    ) -> AsyncIterator[list[Document]]:
        """The labels of ``dataset`` stamped from ``floor`` on, newest first, in slices of time
        that double from a sixty-fourth of the span (each slice is one bounded range read)."""
        mark = await self._marks.find_one({"_id": _mark(dataset)})
        if mark is None or "newest_label" not in mark:
            return
        end = _utc(mark["newest_label"]) + timedelta(milliseconds=1)  # BSON keeps ms
        width = max((end - floor) / 64, timedelta(seconds=1))
        while end > floor:
            low = max(floor, end - width)
            slice_ = self._labels.find(
                labels_between(dataset, low, end, end_included=False),
                {"_id": False, "subject_event_id": True, "occurred_at": True},
            )
            found = await slice_.to_list()
            found.sort(key=lambda d: d["occurred_at"], reverse=True)
            yield found
            end, width = low, width * 2

    async def _label_frame(self, dataset: str, low: datetime, high: datetime) -> pd.DataFrame:
        cursor = self._labels.find(
            labels_between(dataset, low, high),
            {
                "_id": False,
                "subject_event_id": True,
                "occurred_at": True,
                "label": True,
                "label_event_id": True,
            },
        ).batch_size(self._chunk_rows)
        documents = await cursor.to_list()
        return pd.DataFrame(
            {
                SUBJECT: [d["subject_event_id"] for d in documents],
                LABEL_TIME: pd.to_datetime([d["occurred_at"] for d in documents], utc=True),
                LABEL: pd.Series([d["label"] for d in documents], dtype=object),
                LABEL_ID: [d["label_event_id"] for d in documents],
            }
        )


def rows_between(dataset: str, start: datetime, end: datetime) -> Document:
    """The query of ``dataset``'s rows with an event time in ``[start, end]``."""
    return {"dataset": dataset, "occurred_at": {"$gte": start, "$lte": end}}


def labels_between(
    dataset: str, start: datetime, end: datetime, *, end_included: bool = True
) -> Document:
    """The query of ``dataset``'s labels stamped from ``start`` to ``end``."""
    return {
        "dataset": dataset,
        "occurred_at": {"$gte": start, "$lte" if end_included else "$lt": end},
    }


def labels_received(start: datetime, end: datetime) -> Document:
    """The query of the labels stored from ``start`` until before ``end``."""
    return {"received_at": {"$gte": start, "$lt": end}}


def _row_frame(documents: Sequence[Document], columns: Sequence[str]) -> pd.DataFrame:
    values = np.frombuffer(b"".join(d["values"] for d in documents), dtype="<f8")
    frame = pd.DataFrame(values.reshape(len(documents), len(columns)), columns=list(columns))
    frame.insert(0, TIME, pd.to_datetime([d["occurred_at"] for d in documents], utc=True))
    frame.insert(1, SUBJECT, [d["subject_event_id"] for d in documents])
    return frame


def _empty(columns: Sequence[str]) -> pd.DataFrame:
    frame = pd.DataFrame(np.empty((0, len(columns))), columns=list(columns))
    frame.insert(0, TIME, pd.to_datetime([], utc=True))
    frame.insert(1, LABEL, pd.Series([], dtype=object))
    frame.insert(2, SUBJECT, pd.Series([], dtype=object))
    return frame


async def _insert_new(collection: AsyncCollection[Document], documents: list[Document]) -> int:
    if not documents:
        return 0
    try:
        result = await collection.insert_many(documents, ordered=False)
    except BulkWriteError as error:
        if any(e["code"] != DUPLICATE_KEY for e in error.details["writeErrors"]):
            raise
        return int(error.details["nInserted"])
    return len(result.inserted_ids)


async def _existing(collection: AsyncCollection[Document], ids: set[str]) -> set[str]:
    found = await collection.find({"_id": {"$in": sorted(ids)}}, {"_id": True}).to_list()
    return {d["_id"] for d in found}


def _chunks(items: Sequence[Document], size: int) -> Iterable[Sequence[Document]]:
    return (items[i : i + size] for i in range(0, len(items), size))


def _key(dataset: str, event_id: str) -> str:
    return f"{dataset}/{event_id}"


def _mark(dataset: str) -> str:
    return f"dataset/{dataset}"


def _utc(moment: datetime) -> datetime:
    """Stored datetimes come back naive unless the client is tz-aware: read both as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
