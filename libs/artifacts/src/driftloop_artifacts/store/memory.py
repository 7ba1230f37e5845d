"""An in-memory :class:`~driftloop_artifacts.store.base.ArtifactStore` for fast tests."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import AsyncIterator, Mapping

from driftloop_artifacts.envelope import Artifact
from driftloop_artifacts.errors import ArtifactNotFoundError
from driftloop_artifacts.store._checks import (
    check_consistent,
    check_read,
    same_or_conflict,
    verified_chunks,
)
from driftloop_artifacts.store.base import (
    URI_PREFIX,
    ArtifactStream,
    MetadataValue,
    StoredArtifact,
)

__all__ = ["InMemoryArtifactStore"]


class InMemoryArtifactStore:
    """Artifacts in a dict, with the same checks and idempotency as the GridFS store.

    Args:
        chunk_size: Size of the chunks ``open_stream`` yields.
    """

    def __init__(self, *, chunk_size: int = 255 * 1024) -> None:
        self._chunk_size = chunk_size
        self._infos: dict[str, StoredArtifact] = {}
        self._artifacts: dict[str, Artifact] = {}

    async def put(
        self,
        artifact: Artifact,
        *,
        name: str,
        version: int,
        metadata: Mapping[str, MetadataValue] | None = None,
    ) -> StoredArtifact:
        """Store ``artifact``; see :meth:`ArtifactStore.put`."""
        check_consistent(artifact)
        existing = await self.find(name, version)
        if existing is not None:
            return same_or_conflict(existing, artifact)
        artifact_id = secrets.token_hex(12)
        info = StoredArtifact(
            id=artifact_id,
            uri=URI_PREFIX + artifact_id,
            name=name,
            version=version,
            sha256=artifact.sha256,
            size=artifact.size,
            format=artifact.format,
            metadata=dict(metadata or {}),
        )
        self._infos[artifact_id], self._artifacts[artifact_id] = info, artifact
        return info

    async def get(self, artifact_id: str) -> Artifact:
        """Read an artifact; see :meth:`ArtifactStore.get`."""
        info = await self.info(artifact_id)
        artifact = self._artifacts[artifact_id]
        check_read(info, artifact.payload)
        return artifact

    async def info(self, artifact_id: str) -> StoredArtifact:
        """Describe an artifact; see :meth:`ArtifactStore.info`."""
        try:
            return self._infos[artifact_id]
        except KeyError:
            raise ArtifactNotFoundError(f"no artifact with id {artifact_id!r}") from None

    async def open_stream(self, artifact_id: str) -> ArtifactStream:
        """Stream an artifact's payload; see :meth:`ArtifactStore.open_stream`."""
        info = await self.info(artifact_id)
        payload = self._artifacts[artifact_id].payload
        return ArtifactStream(info, verified_chunks(info, self._chunks(payload)))

    async def exists(self, artifact_id: str) -> bool:
        """Return whether an artifact has this id."""
        return artifact_id in self._infos

    async def find(self, name: str, version: int) -> StoredArtifact | None:
        """Return the artifact of model ``name`` at ``version``, if one is stored."""
        matches = (i for i in self._infos.values() if (i.name, i.version) == (name, version))
        return next(matches, None)

    def replace_payload(self, artifact_id: str, payload: bytes) -> None:
        """Swap the stored bytes behind the store's back, as an attacker or a bad disk would.

        A test hook: the next ``get`` or ``open_stream`` of ``artifact_id`` must refuse them.
        """
        artifact = self._artifacts[artifact_id]
        self._artifacts[artifact_id] = dataclasses.replace(artifact, payload=payload)

    async def _chunks(self, payload: bytes) -> AsyncIterator[bytes]:
        for start in range(0, len(payload), self._chunk_size):
            yield payload[start : start + self._chunk_size]
