"""The offline store in MongoDB: served feature rows and labels, appended; joined when read.

Guarantee: training reads exactly the features that were served, each with the latest label
that may join it (``driftloop_offline.join``), whatever order rows and labels came in, and a
replayed batch adds no row or label twice.

- Writes are inserts, one per batch: a batch of rows (or labels) of one dataset is one
  document, a bucket, holding its subjects, event times and values as arrays. The embedded
  document store pays about the same for a document of one row as for one of five hundred, so
  a row's cost is a small share of a batch's, whatever the collection's size.
- A bucket's id is the digest of the event ids it holds: a batch replayed as it was is skipped;
  one replayed with other bounds overlaps an earlier bucket, and the reader keeps the first copy
  of each row and of each label (they are the same events, so the same values).
- Reads are ranges of one ``dataset, end`` index. The embedded store materialises every match
  before it applies a limit or a sort, so the newest event time of each dataset is kept apart
  (``offline_marks``) instead of being asked for.
- A label whose row never came expires ``label_wait`` after it was stored and is counted. Each
  row's subject is also kept as a small document of its own (``offline_subjects``), the one
  per-row write, so that expiry can look rows up by id.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from bson import Binary
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from driftloop_contracts import FeaturesComputed, OutcomeValidated
from driftloop_offline.join import LABEL, LABEL_ID, LABEL_TIME, SUBJECT, TIME, join_labels
from driftloop_runtime.mongo import Document, IndexPlan
from driftloop_spec import LatenessSpec

__all__ = [
    "INDEXES",
    "LabelJoin",
    "OfflineReader",
    "OfflineWriter",
    "buckets_from",
    "columns_digest",
    "labels_received",
]

ROWS, SUBJECTS, LABELS, MARKS = (
    "offline_features",
    "offline_subjects",
    "offline_labels",
    "offline_marks",
)
DUPLICATE_KEY = 11000
LOOKUP_CHUNK = 50  # ids per `_id $in`: the embedded store's $in cost grows with the square
EXPIRY = "label-expiry"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
MILLISECOND = timedelta(milliseconds=1)  # what a BSON datetime keeps

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

_Label = tuple[str, str, str, datetime, Any]
"""A label to store: dataset, subject event id, label event id, event time, value."""


INDEXES: IndexPlan = {
    ROWS: [IndexModel([("dataset", ASCENDING), ("end", ASCENDING)], name="dataset_end")],
    SUBJECTS: [],
    LABELS: [
        IndexModel([("dataset", ASCENDING), ("end", ASCENDING)], name="dataset_end"),
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


def columns_digest(columns: Sequence[str]) -> str:
    """A short digest of feature column names in order: buckets store it, not the names."""
    return sha256("\x1f".join(columns).encode()).hexdigest()[:16]


def buckets_from(query: Document, start: datetime) -> Document:
    """The query of the buckets that ``query`` (a dataset) selects and that hold an event time
    from ``start`` on (a range of the ``dataset, end`` index)."""
    return {**query, "end": {"$gte": start}}


def labels_received(start: datetime, end: datetime) -> Document:
    """The query of the label buckets stored from ``start`` until before ``end``."""
    return {"received_at": {"$gte": start, "$lt": end}}


class OfflineWriter:
    """Appends served rows and labels a bucket per batch; expires labels without a row."""

    def __init__(
        self,
        database: AsyncDatabase[Document],
        *,
        label_wait: timedelta,
        expiry_every: timedelta = timedelta(minutes=1),
    ) -> None:
        """Write to ``database``; a label without a row expires ``label_wait`` after it came,
        looked for at most every ``expiry_every``."""
        self._rows = database[ROWS]
        self._subjects = database[SUBJECTS]
        self._labels = database[LABELS]
        self._marks = database[MARKS]
        self._label_wait = label_wait
        self._expiry_every = expiry_every
        self._next_expiry = EPOCH
        self._newest: dict[str, datetime] = {}
        self.labels_expired = 0

    async def add_rows(self, vectors: Sequence[FeaturesComputed], served_at: datetime) -> int:
        """Append the vectors as rows, and the labels they carry (a backfilled event's).

        Returns how many rows were new (a replayed vector is not).
        """
        labelled = [v for v in vectors if v.label is not None]
        await self._add_label_buckets(
            [
                (v.dataset, v.subject_event_id, v.subject_event_id, v.occurred_at, v.label)
                for v in labelled
            ],
            served_at,
        )
        for (dataset, digest), group in _grouped(
            vectors, lambda v: (v.dataset, columns_digest(v.feature_names))
        ).items():
            await _insert_new(self._rows, [_row_bucket(dataset, digest, group, served_at)])
        new = await _insert_new(
            self._subjects, [{"_id": _key(v.dataset, v.subject_event_id)} for v in vectors]
        )
        await self._mark_newest([(v.dataset, v.occurred_at) for v in vectors])
        return new

    async def add_labels(self, outcomes: Sequence[OutcomeValidated], received_at: datetime) -> None:
        """Append the label of each outcome."""
        await self._add_label_buckets(
            [(o.dataset, o.subject_event_id, o.event_id, o.occurred_at, o.label) for o in outcomes],
            received_at,
        )

    async def expire_labels(self, now: datetime) -> int:
        """Take out the labels stored before ``now - label_wait`` whose row has not come, once
        each: a replica claims the stretch of time since the last expiry before it looks, so
        two replicas never count one label twice. Returns how many expired.

        Called more often than every ``expiry_every``, it returns 0 at once: each look costs
        the store writes, and on the embedded store every write costs more as they add up.
        """
        if now < self._next_expiry:
            return 0
        self._next_expiry = now + self._expiry_every
        horizon = now - self._label_wait
        await self._marks.update_one(
            {"_id": EXPIRY}, {"$setOnInsert": {"until": EPOCH}}, upsert=True
        )
        claimed = await self._marks.find_one_and_update(
            {"_id": EXPIRY, "until": {"$lt": horizon}}, {"$set": {"until": horizon}}
        )
        if claimed is None:
            return 0
        expired = 0
        async for bucket in self._labels.find(labels_received(claimed["until"], horizon)):
            expired += await self._expire_in(bucket)
        self.labels_expired += expired
        return expired

    async def _expire_in(self, bucket: Document) -> int:
        keys = [_key(bucket["dataset"], s) for s in bucket["subjects"]]
        found: set[str] = set()
        for chunk in _chunks(sorted(set(keys)), LOOKUP_CHUNK):
            rows = await self._subjects.find({"_id": {"$in": chunk}}, {"_id": True}).to_list()
            found |= {r["_id"] for r in rows}
        keep = [n for n, key in enumerate(keys) if key in found]
        if len(keep) < len(keys):
            times = np.frombuffer(bucket["times"], dtype="<i8")[keep]
            kept = {f: [bucket[f][n] for n in keep] for f in ("subjects", "label_ids", "labels")}
            await self._labels.update_one(
                {"_id": bucket["_id"]}, {"$set": {**kept, "times": Binary(times.tobytes())}}
            )
        return len(keys) - len(keep)

    async def _add_label_buckets(self, labels: Sequence[_Label], received_at: datetime) -> None:
        for dataset, group in _grouped(labels, lambda label: label[0]).items():
            await _insert_new(self._labels, [_label_bucket(dataset, group, received_at)])

    async def _mark_newest(self, times: Iterable[tuple[str, datetime]]) -> None:
        """Keep each dataset's newest row time (one small write per batch): a window ends
        there, and the store would read every bucket to find it."""
        newest: dict[str, datetime] = {}
        for dataset, time in times:
            if time > newest.get(dataset, self._newest.get(dataset, EPOCH)):
                newest[dataset] = time
        self._newest |= newest
        for dataset, time in newest.items():
            await self._marks.update_one(
                {"_id": _mark(dataset)}, {"$max": {"newest_row": time}}, upsert=True
            )


class OfflineReader:
    """Reads the labelled rows of a time window, and counts them, by index ranges only."""

    def __init__(
        self, database: AsyncDatabase[Document], *, max_rows: int, chunk_buckets: int = 20
    ) -> None:
        """Read ``database``: at most ``max_rows`` per window, ``chunk_buckets`` buckets (of a
        batch of rows each) fetched at a time."""
        self._rows = database[ROWS]
        self._subjects = database[SUBJECTS]
        self._labels = database[LABELS]
        self._marks = database[MARKS]
        self._max_rows = max_rows
        self._chunk_buckets = chunk_buckets

    async def stored_rows(self) -> int:
        """How many rows are stored, all datasets together: the store's own estimate, kept
        as it writes (no scan), for watching the writers keep up."""
        return await self._subjects.estimated_document_count()

    async def label_arrivals(self, dataset: str) -> dict[str, datetime]:
        """When each stored label of ``dataset`` was stored, by label event id: how far the
        labels writer trails its topic (benchmarks read it; it reads every label bucket)."""
        fields = {"_id": False, "label_ids": True, "received_at": True}
        return {
            label_id: _utc(bucket["received_at"])
            async for bucket in self._labels.find({"dataset": dataset}, fields)
            for label_id in bucket["label_ids"]
        }

    async def newest_row_time(self, dataset: str) -> datetime | None:
        """The event time of ``dataset``'s newest stored row, if it has any."""
        mark = await self._marks.find_one({"_id": _mark(dataset)})
        # a bound: BSON drops the microseconds
        return None if mark is None else _utc(mark["newest_row"]) + MILLISECOND

    async def window(
        self, dataset: str, columns: Sequence[str], join: LabelJoin, span: timedelta
    ) -> pd.DataFrame:
        """The labelled rows in ``columns`` of the ``span`` that ends at the newest row, the
        most recent ``max_rows`` of them, oldest first: ``TIME``, ``LABEL``, ``SUBJECT``, then
        one column per feature."""
        newest = await self.newest_row_time(dataset)
        if newest is None:
            return _empty_rows(columns)
        kept: list[pd.DataFrame] = []
        held = 0
        async for chunk in self.chunks(dataset, columns, join, start=newest - span, end=newest):
            kept.append(chunk)
            held += len(chunk)
            if held > 2 * self._max_rows:  # trim as it streams: memory stays bounded
                kept = [_ordered(pd.concat(kept)).tail(self._max_rows)]
                held = self._max_rows
        if not kept:
            return _empty_rows(columns)
        return _ordered(pd.concat(kept)).tail(self._max_rows).reset_index(drop=True)

    async def chunks(
        self,
        dataset: str,
        columns: Sequence[str],
        join: LabelJoin,
        *,
        start: datetime,
        end: datetime,
    ) -> AsyncIterator[pd.DataFrame]:
        """The labelled rows in ``columns`` with an event time in ``[start, end]``, joined, a
        fetch of buckets at a time; each chunk is in event-time order and holds no row another
        chunk held, but chunks may overlap in time (batches of several partitions do)."""
        labels = await self._label_frame(dataset, start - join.early, end + join.late)
        if labels.empty:
            return
        by_subject = pd.Index(labels[SUBJECT])  # hashed once, looked up per chunk
        early, late = pd.Timedelta(join.early), pd.Timedelta(join.late)
        seen: set[str] = set()
        async for rows in self._row_frames(dataset, columns, start, end):
            subjects = rows[SUBJECT].tolist()
            rows = rows[np.fromiter((s not in seen for s in subjects), bool, len(subjects))]
            seen.update(subjects)
            found, _ = by_subject.get_indexer_non_unique(rows[SUBJECT])
            yield join_labels(rows, labels.iloc[found[found >= 0]], early=early, late=late)

    async def count_labelled(
        self,
        dataset: str,
        columns: Sequence[str],
        join: LabelJoin,
        *,
        since: datetime,
        up_to: int,
    ) -> int:
        """How many rows in ``columns`` with an event time from ``since`` on have a label
        (at most ``up_to``, the number the caller waits for)."""
        newest = await self.newest_row_time(dataset)
        if newest is None or newest < since:
            return 0
        counted = 0
        async for chunk in self.chunks(dataset, columns, join, start=since, end=newest):
            counted += len(chunk)
            if counted >= up_to:
                return up_to
        return counted

    async def _row_frames(
        self, dataset: str, columns: Sequence[str], start: datetime, end: datetime
    ) -> AsyncIterator[pd.DataFrame]:
        digest = columns_digest(columns)
        cursor = self._rows.find(buckets_from({"dataset": dataset}, start))
        frames: list[pd.DataFrame] = []
        async for bucket in cursor.batch_size(self._chunk_buckets):
            if bucket["columns"] == digest and _utc(bucket["start"]) <= end:
                frames.append(_row_frame(bucket, columns))
            if len(frames) == self._chunk_buckets:
                yield _within(frames, start, end)
                frames = []
        if frames:
            yield _within(frames, start, end)

    async def _label_frame(self, dataset: str, low: datetime, high: datetime) -> pd.DataFrame:
        frames = [
            _label_frame(bucket)
            async for bucket in self._labels.find(buckets_from({"dataset": dataset}, low))
            if _utc(bucket["start"]) <= high
        ]
        if not frames:
            return _empty_labels()
        labels = pd.concat(frames, ignore_index=True).drop_duplicates(LABEL_ID)
        return labels[(labels[LABEL_TIME] >= low) & (labels[LABEL_TIME] <= high)]


def _row_bucket(
    dataset: str, digest: str, vectors: Sequence[FeaturesComputed], served_at: datetime
) -> Document:
    times = [v.occurred_at for v in vectors]
    subjects = [v.subject_event_id for v in vectors]
    return {
        "_id": _bucket_id(dataset, subjects),
        "dataset": dataset,
        "columns": digest,
        "start": min(times),
        "end": max(times) + MILLISECOND,  # a bound: BSON drops the microseconds
        "subjects": subjects,
        "times": Binary(_microseconds(times).tobytes()),
        "values": Binary(np.asarray([v.values for v in vectors], dtype="<f8").tobytes()),
        "spec_versions": sorted({v.spec_version for v in vectors}),
        "served_at": served_at,
    }


def _label_bucket(dataset: str, labels: Sequence[_Label], received_at: datetime) -> Document:
    times = [label[3] for label in labels]
    ids = [label[2] for label in labels]
    return {
        "_id": _bucket_id(dataset, ids),
        "dataset": dataset,
        "start": min(times),
        "end": max(times) + MILLISECOND,
        "subjects": [label[1] for label in labels],
        "label_ids": ids,
        "labels": [label[4] for label in labels],
        "times": Binary(_microseconds(times).tobytes()),
        "received_at": received_at,
    }


def _row_frame(bucket: Document, columns: Sequence[str]) -> pd.DataFrame:
    values = np.frombuffer(bucket["values"], dtype="<f8").reshape(-1, len(columns))
    frame = pd.DataFrame(values, columns=list(columns))
    frame.insert(0, TIME, _times(bucket["times"]))
    frame.insert(1, SUBJECT, bucket["subjects"])
    return frame


def _label_frame(bucket: Document) -> pd.DataFrame:
    return pd.DataFrame(
        {
            SUBJECT: bucket["subjects"],
            LABEL_TIME: _times(bucket["times"]),
            LABEL: pd.Series(bucket["labels"], dtype=object),
            LABEL_ID: bucket["label_ids"],
        }
    )


def _within(frames: list[pd.DataFrame], start: datetime, end: datetime) -> pd.DataFrame:
    # not sorted here: join_labels gives its output in event-time order
    rows = pd.concat(frames, ignore_index=True).drop_duplicates(SUBJECT)
    return rows[(rows[TIME] >= pd.Timestamp(start)) & (rows[TIME] <= pd.Timestamp(end))]


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values([TIME, SUBJECT], kind="stable", ignore_index=True)


def _empty_rows(columns: Sequence[str]) -> pd.DataFrame:
    frame = pd.DataFrame(np.empty((0, len(columns))), columns=list(columns))
    frame.insert(0, TIME, pd.to_datetime([], utc=True))
    frame.insert(1, LABEL, pd.Series([], dtype=object))
    frame.insert(2, SUBJECT, pd.Series([], dtype=object))
    return frame


def _empty_labels() -> pd.DataFrame:
    return _label_frame({"subjects": [], "times": b"", "labels": [], "label_ids": []})


def _microseconds(times: Sequence[datetime]) -> np.ndarray[Any, np.dtype[np.int64]]:
    return np.array([(_utc(t) - EPOCH) // MICROSECOND for t in times], dtype="<i8")


def _times(packed: bytes) -> pd.DatetimeIndex:
    return pd.to_datetime(np.frombuffer(packed, dtype="<i8"), unit="us", utc=True)


def _grouped(items: Iterable[T], key: Callable[[T], K]) -> dict[K, list[T]]:
    groups: dict[K, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups


async def _insert_new(collection: AsyncCollection[Document], documents: list[Document]) -> int:
    if not documents:
        return 0
    try:
        if len(documents) == 1:
            await collection.insert_one(documents[0])
            return 1
        result = await collection.insert_many(documents, ordered=False)
    except DuplicateKeyError:
        return 0
    except BulkWriteError as error:
        if any(e["code"] != DUPLICATE_KEY for e in error.details["writeErrors"]):
            raise
        return int(error.details["nInserted"])
    return len(result.inserted_ids)


def _chunks(items: Sequence[str], size: int) -> Iterable[list[str]]:
    return (list(items[i : i + size]) for i in range(0, len(items), size))


def _bucket_id(dataset: str, event_ids: Sequence[str]) -> str:
    return f"{dataset}/" + sha256("\x1f".join(event_ids).encode()).hexdigest()[:32]


def _key(dataset: str, event_id: str) -> str:
    return f"{dataset}/{event_id}"


def _mark(dataset: str) -> str:
    return f"dataset/{dataset}"


def _utc(moment: datetime) -> datetime:
    """Stored datetimes come back naive unless the client is tz-aware: read both as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
