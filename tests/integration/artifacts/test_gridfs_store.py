"""The GridFS artifact store against the real embedded document store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest
from bson import ObjectId
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from sklearn.ensemble import HistGradientBoostingClassifier

from driftloop_artifacts import (
    Artifact,
    ArtifactConflictError,
    ArtifactNotFoundError,
    ArtifactRefused,
    GridFSArtifactStore,
    decode_model,
    encode_model,
)
from tests.integration.kafka_helpers import unique

pytestmark = pytest.mark.integration

CHUNK_BYTES = 255 * 1024  # GridFS default chunk size


@pytest.fixture
async def database(infra: dict[str, str]) -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    """A fresh database, dropped afterwards."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        infra["DRIFTLOOP_MONGO_URI"], tz_aware=True
    )
    name = unique("artifacts").replace("-", "_")
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()


@pytest.fixture(scope="module")
def big_artifact() -> Artifact:
    """A HistGradientBoosting model that spans more than one GridFS chunk."""
    rng = np.random.default_rng(11)
    features = rng.normal(size=(2000, 8))
    labels = (features[:, 0] * features[:, 1] > 0).astype(np.int64)
    model = HistGradientBoostingClassifier(max_iter=200, early_stopping=False, random_state=0)
    artifact = encode_model(model.fit(features, labels))
    assert artifact.size > CHUNK_BYTES, artifact.size
    return artifact


async def test_put_then_get_round_trips_the_model(
    database: AsyncDatabase[dict[str, Any]], big_artifact: Artifact
) -> None:
    store = GridFSArtifactStore(database)
    stored = await store.put(big_artifact, name="fraud", version=7, metadata={"run_id": "r-7"})
    assert stored.uri == f"gridfs://artifacts/{stored.id}"
    assert (stored.sha256, stored.size, stored.format) == (
        big_artifact.sha256,
        big_artifact.size,
        "skops",
    )
    assert await store.info(stored.id) == stored
    loaded = await store.get(stored.id)
    assert loaded == big_artifact
    decode_model(loaded, expected_sha256=stored.sha256)
    document = await database["artifacts.files"].find_one({"_id": ObjectId(stored.id)})
    assert document is not None
    assert document["metadata"]["sha256"] == big_artifact.sha256
    assert document["metadata"]["framework"] == dict(big_artifact.metadata)
    assert document["metadata"]["extra"] == {"run_id": "r-7"}


async def test_put_twice_stores_one_file_and_other_bytes_conflict(
    database: AsyncDatabase[dict[str, Any]], big_artifact: Artifact
) -> None:
    racing = [GridFSArtifactStore(database) for _ in range(4)]
    stored = await asyncio.gather(*(s.put(big_artifact, name="fraud", version=1) for s in racing))
    assert all(one == stored[0] for one in stored)
    assert await racing[0].put(big_artifact, name="fraud", version=1) == stored[0]
    assert await database["artifacts.files"].count_documents({}) == 1
    chunks = await database["artifacts.chunks"].count_documents({})
    assert chunks == -(-big_artifact.size // CHUNK_BYTES)  # no orphaned chunks from the race
    with pytest.raises(ArtifactConflictError):
        await racing[0].put(encode_model(HistGradientBoostingClassifier()), name="fraud", version=1)


async def test_bytes_changed_in_gridfs_are_refused_with_a_digest_mismatch(
    database: AsyncDatabase[dict[str, Any]], big_artifact: Artifact
) -> None:
    store = GridFSArtifactStore(database)
    stored = await store.put(big_artifact, name="fraud", version=1)
    chunk = await database["artifacts.chunks"].find_one({"files_id": ObjectId(stored.id), "n": 1})
    assert chunk is not None
    flipped = bytes(b ^ 0xFF for b in chunk["data"][:16]) + chunk["data"][16:]
    await database["artifacts.chunks"].update_one(
        {"_id": chunk["_id"]}, {"$set": {"data": flipped}}
    )
    with pytest.raises(ArtifactRefused, match="digest mismatch"):
        await store.get(stored.id)
    stream = await store.open_stream(stored.id)
    with pytest.raises(ArtifactRefused, match="digest mismatch"):
        _ = [part async for part in stream.chunks]


async def test_a_truncated_chunk_is_refused(
    database: AsyncDatabase[dict[str, Any]], big_artifact: Artifact
) -> None:
    store = GridFSArtifactStore(database)
    stored = await store.put(big_artifact, name="fraud", version=1)
    await database["artifacts.chunks"].update_one(
        {"files_id": ObjectId(stored.id), "n": 0}, {"$set": {"data": b"short"}}
    )
    with pytest.raises(ArtifactRefused, match="corrupt"):
        await store.get(stored.id)


async def test_stream_yields_exactly_the_bytes_and_size(
    database: AsyncDatabase[dict[str, Any]], big_artifact: Artifact
) -> None:
    store = GridFSArtifactStore(database)
    stored = await store.put(big_artifact, name="fraud", version=2)
    stream = await store.open_stream(stored.id)
    assert stream.info == stored
    chunks = [part async for part in stream.chunks]
    assert len(chunks) > 1
    assert b"".join(chunks) == big_artifact.payload
    assert sum(map(len, chunks)) == stream.info.size == big_artifact.size


async def test_unknown_ids_are_not_found(database: AsyncDatabase[dict[str, Any]]) -> None:
    store = GridFSArtifactStore(database)
    for artifact_id in ("0123456789abcdef01234567", "not-an-object-id"):
        assert not await store.exists(artifact_id)
        with pytest.raises(ArtifactNotFoundError):
            await store.get(artifact_id)
        with pytest.raises(ArtifactNotFoundError):
            await store.open_stream(artifact_id)
    assert await store.find("fraud", 1) is None
