"""Artifacts in MongoDB GridFS, through PyMongo's async API (bucket ``artifacts``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from gridfs import AsyncGridFSBucket
from gridfs.asynchronous.grid_file import AsyncGridOut
from gridfs.errors import CorruptGridFile, FileExists, NoFile
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from driftloop_artifacts.envelope import Artifact
from driftloop_artifacts.errors import ArtifactNotFoundError, ArtifactRefused
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

__all__ = ["BUCKET", "GridFSArtifactStore"]

BUCKET = "artifacts"
"""GridFS bucket name: files in ``artifacts.files``, bytes in ``artifacts.chunks``."""

_NAME_VERSION = IndexModel(
    [("metadata.name", ASCENDING), ("metadata.version", ASCENDING)],
    unique=True,
    name="artifact_name_version",
)


class GridFSArtifactStore:
    """An :class:`~driftloop_artifacts.store.base.ArtifactStore` on GridFS.

    Each file's ``metadata`` holds the model name and version, the format, the SHA-256, the
    signature, the framework versions and the extra metadata. A unique index on name and version
    makes ``put`` idempotent also when two writers race.

    Args:
        database: The database holding the ``artifacts`` bucket.
    """

    def __init__(self, database: AsyncDatabase[Any]) -> None:
        self._files = database[f"{BUCKET}.files"]
        self._bucket = AsyncGridFSBucket(database, bucket_name=BUCKET)
        self._indexed = False

    async def ensure_indexes(self) -> None:
        """Create the unique name/version index (``put`` does so on first use)."""
        if not self._indexed:
            await self._files.create_indexes([_NAME_VERSION])
            self._indexed = True

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
        await self.ensure_indexes()
        existing = await self.find(name, version)
        if existing is not None:
            return same_or_conflict(existing, artifact)
        document = _file_metadata(artifact, name, version, metadata or {})
        upload = self._bucket.open_upload_stream(f"{name}/v{version}", metadata=document)
        try:
            await upload.write(artifact.payload)
            await upload.close()
        except FileExists:  # another writer stored this name and version first
            await upload.abort()
            winner = await self.find(name, version)
            if winner is None:
                raise
            return same_or_conflict(winner, artifact)
        except Exception:
            await upload.abort()  # leave no orphaned chunks behind
            raise
        return _stored(upload._id, artifact.size, document)

    async def get(self, artifact_id: str) -> Artifact:
        """Read an artifact; see :meth:`ArtifactStore.get`."""
        download = await self._open(artifact_id)
        info = _stored(download._id, download.length, download.metadata)
        try:
            payload = await download.read()
        except CorruptGridFile as error:
            raise ArtifactRefused(f"artifact {artifact_id} is corrupt: {error}") from error
        finally:
            await download.close()
        check_read(info, payload)
        return _artifact(download.metadata or {}, payload)

    async def info(self, artifact_id: str) -> StoredArtifact:
        """Describe an artifact; see :meth:`ArtifactStore.info`."""
        document = await self._files.find_one({"_id": _object_id(artifact_id)})
        if document is None:
            raise ArtifactNotFoundError(f"no artifact with id {artifact_id!r}")
        return _stored(document["_id"], document["length"], document.get("metadata"))

    async def open_stream(self, artifact_id: str) -> ArtifactStream:
        """Stream an artifact's payload; see :meth:`ArtifactStore.open_stream`."""
        download = await self._open(artifact_id)
        info = _stored(download._id, download.length, download.metadata)
        return ArtifactStream(info, verified_chunks(info, _read_chunks(artifact_id, download)))

    async def exists(self, artifact_id: str) -> bool:
        """Return whether an artifact has this id."""
        try:
            oid = _object_id(artifact_id)
        except ArtifactNotFoundError:
            return False
        return await self._files.count_documents({"_id": oid}, limit=1) > 0

    async def find(self, name: str, version: int) -> StoredArtifact | None:
        """Return the artifact of model ``name`` at ``version``, if one is stored."""
        document = await self._files.find_one({"metadata.name": name, "metadata.version": version})
        if document is None:
            return None
        return _stored(document["_id"], document["length"], document.get("metadata"))

    async def _open(self, artifact_id: str) -> AsyncGridOut:
        try:
            return await self._bucket.open_download_stream(_object_id(artifact_id))
        except NoFile:
            raise ArtifactNotFoundError(f"no artifact with id {artifact_id!r}") from None


async def _read_chunks(artifact_id: str, download: AsyncGridOut) -> AsyncIterator[bytes]:
    try:
        while chunk := await download.readchunk():
            yield chunk
    except CorruptGridFile as error:
        raise ArtifactRefused(f"artifact {artifact_id} is corrupt: {error}") from error
    finally:
        await download.close()


def _object_id(artifact_id: str) -> ObjectId:
    try:
        return ObjectId(artifact_id)
    except (InvalidId, TypeError):
        raise ArtifactNotFoundError(f"no artifact with id {artifact_id!r}") from None


def _file_metadata(
    artifact: Artifact, name: str, version: int, extra: Mapping[str, MetadataValue]
) -> dict[str, Any]:
    return {
        "name": name,
        "version": version,
        "format": artifact.format,
        "sha256": artifact.sha256,
        "signature": artifact.signature,
        "framework": dict(artifact.metadata),
        "extra": dict(extra),
    }


def _stored(file_id: Any, length: Any, meta: Mapping[str, Any] | None) -> StoredArtifact:
    artifact_id = str(file_id)
    if meta is None:
        raise ArtifactRefused(f"artifact {artifact_id} has no metadata")
    try:
        return StoredArtifact(
            id=artifact_id,
            uri=URI_PREFIX + artifact_id,
            name=meta["name"],
            version=meta["version"],
            sha256=meta["sha256"],
            size=int(length),
            format=meta["format"],
            metadata=dict(meta.get("extra", {})),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ArtifactRefused(f"artifact {artifact_id} has no valid metadata") from error


def _artifact(meta: Mapping[str, Any], payload: bytes) -> Artifact:
    return Artifact(
        format=meta["format"],
        payload=payload,
        sha256=meta["sha256"],
        signature=meta.get("signature"),
        metadata=dict(meta.get("framework", {})),
    )
