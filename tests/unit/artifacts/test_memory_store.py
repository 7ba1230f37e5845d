"""The in-memory artifact store behaves like the GridFS one."""

from __future__ import annotations

import dataclasses

import pytest
from sklearn.linear_model import Ridge

from driftloop_artifacts import (
    Artifact,
    ArtifactConflictError,
    ArtifactNotFoundError,
    ArtifactRefused,
    InMemoryArtifactStore,
    artifact_id_from_uri,
    encode_model,
)

pytestmark = pytest.mark.unit


@pytest.fixture
def artifact() -> Artifact:
    """A skops artifact of an unfitted ridge regression."""
    return encode_model(Ridge())


async def test_put_then_get_returns_the_same_artifact(artifact: Artifact) -> None:
    store = InMemoryArtifactStore()
    stored = await store.put(artifact, name="fraud", version=3, metadata={"run_id": "r-1"})
    assert (stored.name, stored.version, stored.format) == ("fraud", 3, "skops")
    assert (stored.sha256, stored.size) == (artifact.sha256, artifact.size)
    assert stored.metadata == {"run_id": "r-1"}
    assert artifact_id_from_uri(stored.uri) == stored.id
    assert await store.get(stored.id) == artifact
    assert await store.exists(stored.id)
    assert await store.find("fraud", 3) == stored


async def test_put_is_idempotent_and_refuses_other_bytes(artifact: Artifact) -> None:
    store = InMemoryArtifactStore()
    first = await store.put(artifact, name="fraud", version=1)
    assert await store.put(artifact, name="fraud", version=1) == first
    other = encode_model(Ridge(alpha=2.0))
    with pytest.raises(ArtifactConflictError, match="fraud version 1"):
        await store.put(other, name="fraud", version=1)


async def test_put_refuses_an_artifact_whose_digest_is_not_its_payloads(
    artifact: Artifact,
) -> None:
    wrong = dataclasses.replace(artifact, sha256="0" * 64)
    with pytest.raises(ArtifactRefused, match="digest mismatch"):
        await InMemoryArtifactStore().put(wrong, name="fraud", version=1)


async def test_changed_bytes_are_refused_on_get_and_at_the_end_of_a_stream(
    artifact: Artifact,
) -> None:
    store = InMemoryArtifactStore(chunk_size=1000)
    stored = await store.put(artifact, name="fraud", version=1)
    store.replace_payload(stored.id, artifact.payload[::-1])
    with pytest.raises(ArtifactRefused, match="digest mismatch"):
        await store.get(stored.id)
    stream = await store.open_stream(stored.id)
    with pytest.raises(ArtifactRefused, match="digest mismatch"):
        _ = [chunk async for chunk in stream.chunks]


async def test_stream_yields_exactly_the_payload_in_chunks(artifact: Artifact) -> None:
    store = InMemoryArtifactStore(chunk_size=1000)
    stored = await store.put(artifact, name="fraud", version=1)
    stream = await store.open_stream(stored.id)
    chunks = [chunk async for chunk in stream.chunks]
    assert stream.info == stored
    assert b"".join(chunks) == artifact.payload
    assert len(chunks) == -(-artifact.size // 1000)


async def test_unknown_ids_are_not_found() -> None:
    store = InMemoryArtifactStore()
    assert not await store.exists("nope")
    assert await store.find("fraud", 1) is None
    with pytest.raises(ArtifactNotFoundError):
        await store.get("nope")
    with pytest.raises(ArtifactNotFoundError):
        await store.open_stream("nope")
    with pytest.raises(ArtifactNotFoundError):
        artifact_id_from_uri("s3://bucket/key")
