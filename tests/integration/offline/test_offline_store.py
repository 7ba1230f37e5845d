"""The offline store on the real embedded document store: appended rows and labels, joined when
read, in whatever order they came, replayed or not, with index-only query plans."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from driftloop_offline import INDEXES, LABEL, SUBJECT, TIME, LabelJoin, OfflineReader, OfflineWriter
from driftloop_offline.store import buckets_from, labels_received
from driftloop_runtime import RuntimeSettings, create_mongo_client, open_database
from driftloop_runtime.mongo import Document
from tests.integration.kafka_helpers import unique
from tests.integration.offline.data import COLUMNS, T0, outcome, vector

pytestmark = pytest.mark.integration

JOIN = LabelJoin(early=timedelta(minutes=5), late=timedelta(hours=1))
WEEK = timedelta(days=7)
WAIT = timedelta(hours=1)


@pytest.fixture
async def database(infra: dict[str, str]) -> AsyncIterator[AsyncDatabase[Document]]:
    settings = RuntimeSettings(
        mongo_uri=infra["DRIFTLOOP_MONGO_URI"], mongo_database=unique("offline")
    )
    async with create_mongo_client(settings, appname="tests") as client:
        yield await open_database(client, settings, INDEXES)


def stores(database: AsyncDatabase[Document]) -> tuple[OfflineWriter, OfflineReader]:
    return OfflineWriter(database, label_wait=WAIT), OfflineReader(database, max_rows=10_000)


def labels_of(frame: Any) -> dict[str, Any]:
    return dict(zip(frame[SUBJECT], frame[LABEL], strict=True))


async def test_a_label_joins_its_row_whichever_came_first(
    database: AsyncDatabase[Document],
) -> None:
    writer, reader = stores(database)
    ds = unique("cards")
    await writer.add_labels(
        [outcome(ds, n, n % 2 == 0, after=timedelta(minutes=1)) for n in range(10)], T0
    )
    await writer.add_rows([vector(ds, n) for n in range(20)], T0)
    await writer.add_labels(
        [outcome(ds, n, True, after=timedelta(minutes=2)) for n in range(10, 15)], T0
    )

    frame = await reader.window(ds, COLUMNS, JOIN, WEEK)

    assert labels_of(frame) == {
        **{f"{ds}-{n}": n % 2 == 0 for n in range(10)},
        **{f"{ds}-{n}": True for n in range(10, 15)},
    }
    assert frame[TIME].is_monotonic_increasing
    for subject, *values in frame[[SUBJECT, *COLUMNS]].itertuples(index=False):
        served = vector(ds, int(subject.rsplit("-", 1)[1]))
        assert values == served.values  # exactly the features that were served


async def test_replays_add_nothing_and_the_latest_label_wins(
    database: AsyncDatabase[Document],
) -> None:
    writer, reader = stores(database)
    ds = unique("cards")
    rows = [vector(ds, n, label=False) for n in range(6)]
    corrected = [outcome(ds, n, True, after=timedelta(minutes=30), name="b") for n in range(3)]
    first = [outcome(ds, n, False, after=timedelta(minutes=10), name="a") for n in range(3)]

    assert await writer.add_rows(rows, T0) == 6
    await writer.add_labels(corrected, T0)
    await writer.add_labels(first, T0)  # stored after, yet stamped earlier
    assert await writer.add_rows(rows, T0) == 0  # a replay after a crash
    assert await writer.add_rows(rows[2:5], T0) == 0  # replayed with other bounds
    await writer.add_labels(corrected + first, T0)
    await writer.add_labels(first[1:], T0)

    frame = await reader.window(ds, COLUMNS, JOIN, WEEK)

    assert len(frame) == 6
    assert await reader.stored_rows() == 6  # each row once, however often it was replayed
    arrivals = await reader.label_arrivals(ds)
    assert set(arrivals) == {o.event_id for o in corrected + first} | {
        r.subject_event_id for r in rows
    }
    assert labels_of(frame) == {f"{ds}-{n}": n < 3 for n in range(6)}  # inline False, then True


async def test_labels_outside_the_lateness_bounds_are_not_learnt_from(
    database: AsyncDatabase[Document],
) -> None:
    writer, reader = stores(database)
    ds = unique("cards")
    await writer.add_rows([vector(ds, n) for n in range(4)], T0)
    await writer.add_labels(
        [
            outcome(ds, 0, True, after=JOIN.late),  # the last moment that joins
            outcome(ds, 1, True, after=JOIN.late + timedelta(seconds=1)),
            outcome(ds, 2, True, after=-JOIN.early),  # a drifting clock, within bounds
            outcome(ds, 3, True, after=-JOIN.early - timedelta(seconds=1)),
        ],
        T0,
    )

    frame = await reader.window(ds, COLUMNS, JOIN, WEEK)

    assert sorted(frame[SUBJECT]) == [f"{ds}-0", f"{ds}-2"]


async def test_rows_in_other_columns_and_outside_the_window_are_left_out(
    database: AsyncDatabase[Document],
) -> None:
    writer, reader = stores(database)
    ds = unique("cards")
    old = vector(ds, 0, at=T0 - 2 * WEEK, label=True)
    other = vector(ds, 1, label=True, columns=["log_amount", "hour", "foreign_card"])
    await writer.add_rows([old, other, vector(ds, 2, label=True), vector(ds, 3, label=False)], T0)

    frame = await reader.window(ds, COLUMNS, JOIN, WEEK)

    assert list(frame.columns) == [TIME, LABEL, SUBJECT, *COLUMNS]
    assert labels_of(frame) == {f"{ds}-2": True, f"{ds}-3": False}


async def test_a_window_streams_in_chunks_and_keeps_the_most_recent_rows(
    database: AsyncDatabase[Document],
) -> None:
    writer, _ = stores(database)
    reader = OfflineReader(database, max_rows=25, chunk_buckets=2)
    ds = unique("cards")
    for first in range(0, 100, 10):  # ten batches, read two at a time
        await writer.add_rows(
            [vector(ds, n, label=n % 3 == 0) for n in range(first, first + 10)], T0
        )

    frame = await reader.window(ds, COLUMNS, JOIN, WEEK)

    assert list(frame[SUBJECT]) == [f"{ds}-{n}" for n in range(75, 100)]


async def test_counting_labelled_rows_since_a_change_point(
    database: AsyncDatabase[Document],
) -> None:
    writer, reader = stores(database)
    ds = unique("cards")
    change = T0 + timedelta(seconds=300)
    await writer.add_rows([vector(ds, n) for n in range(600)], T0)
    # Every event is labelled a minute late: the labels stamped after the change point include
    # those of the sixty events before it, which must not count.
    await writer.add_labels(
        [outcome(ds, n, False, after=timedelta(minutes=1)) for n in range(550)], T0
    )

    count = await reader.count_labelled(ds, COLUMNS, JOIN, since=change, up_to=1_000)
    enough = await reader.count_labelled(ds, COLUMNS, JOIN, since=change, up_to=100)
    none = await reader.count_labelled(ds, ["other"], JOIN, since=change, up_to=1_000)

    assert (count, enough, none) == (250, 100, 0)


async def test_a_label_whose_row_never_comes_expires_and_is_counted(
    database: AsyncDatabase[Document],
) -> None:
    writer, reader = stores(database)
    ds = unique("cards")
    await writer.add_rows([vector(ds, n) for n in range(3)], T0)
    labels = [outcome(ds, n, True, after=timedelta(minutes=1)) for n in range(5)]  # 3, 4: no row
    await writer.add_labels(labels, T0)

    assert await writer.expire_labels(T0 + WAIT / 2) == 0  # not waited long enough yet
    assert await writer.expire_labels(T0 + WAIT + timedelta(seconds=1)) == 2
    assert await writer.expire_labels(T0 + 2 * WAIT) == 0  # each label is looked at once
    assert writer.labels_expired == 2
    assert len(await reader.window(ds, COLUMNS, JOIN, WEEK)) == 3


@pytest.mark.parametrize(
    ("collection", "query"),
    [
        ("offline_features", buckets_from({"dataset": "cards"}, T0)),
        ("offline_labels", buckets_from({"dataset": "cards"}, T0)),
        ("offline_labels", labels_received(T0, T0 + WEEK)),
        ("offline_subjects", {"_id": {"$in": ["cards/a", "cards/b"]}}),
    ],
)
async def test_every_read_walks_an_index(
    database: AsyncDatabase[Document], collection: str, query: Document
) -> None:
    plan = await database.command("explain", {"find": collection, "filter": query})

    winning = str(plan["queryPlanner"]["winningPlan"])
    assert "COLLSCAN" not in winning
    assert "IXSCAN" in winning or "IDHACK" in winning
