"""The artifact store interface and the values it hands out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from driftloop_artifacts.envelope import Artifact, ArtifactFormat
from driftloop_artifacts.errors import ArtifactNotFoundError

__all__ = [
    "URI_PREFIX",
    "ArtifactStore",
    "ArtifactStream",
    "MetadataValue",
    "StoredArtifact",
    "artifact_id_from_uri",
]

URI_PREFIX = "gridfs://artifacts/"
"""Artifact URIs are this prefix followed by the artifact id."""

MetadataValue = str | int | float | bool
"""A value of the extra metadata stored with an artifact (run id, dataset, ...)."""


def artifact_id_from_uri(uri: str) -> str:
    """Return the artifact id in a ``gridfs://artifacts/<id>`` URI.

    Raises:
        ArtifactNotFoundError: ``uri`` is not an artifact URI.
    """
    if not uri.startswith(URI_PREFIX) or len(uri) == len(URI_PREFIX):
        raise ArtifactNotFoundError(f"not an artifact URI: {uri!r}")
    return uri.removeprefix(URI_PREFIX)


@dataclass(frozen=True)
class StoredArtifact:
    """Where an artifact is stored and what it is; ``uri``, ``sha256`` and ``format`` are the
    fields of the ``ArtifactRef`` contract.

    Attributes:
        id: The store's id for the artifact.
        uri: ``gridfs://artifacts/<id>``.
        name: Registered model name.
        version: Model version.
        sha256: SHA-256 of the payload, lowercase hex.
        size: Length of the payload in bytes.
        format: Serialisation format.
        metadata: Extra metadata given to ``put``.
    """

    id: str
    uri: str
    name: str
    version: int
    sha256: str
    size: int
    format: ArtifactFormat
    metadata: Mapping[str, MetadataValue] = field(default_factory=dict)


@dataclass(frozen=True)
class ArtifactStream:
    """A streamed download: what is coming, then the bytes in chunks.

    ``chunks`` checks the SHA-256 and size of what it yielded when it ends and raises
    :class:`~driftloop_artifacts.errors.ArtifactRefused` on a mismatch, after the last chunk.
    Iterate it to the end, or close it with ``aclose()``.

    Attributes:
        info: The artifact being streamed (size and digest are known before the first chunk).
        chunks: The payload, in order.
    """

    info: StoredArtifact
    chunks: AsyncIterator[bytes]


class ArtifactStore(Protocol):
    """Model artifacts by id, written once per model name and version."""

    async def put(
        self,
        artifact: Artifact,
        *,
        name: str,
        version: int,
        metadata: Mapping[str, MetadataValue] | None = None,
    ) -> StoredArtifact:
        """Store ``artifact`` as version ``version`` of model ``name``.

        Idempotent: storing the same bytes for the same name and version again returns the
        artifact already stored.

        Raises:
            ArtifactRefused: ``artifact.sha256`` is not the digest of its payload.
            ArtifactConflictError: the name and version already hold other bytes.
        """
        ...

    async def get(self, artifact_id: str) -> Artifact:
        """Read an artifact, with the SHA-256 of the bytes read checked against the stored one.

        Raises:
            ArtifactNotFoundError: no artifact has this id.
            ArtifactRefused: the stored bytes no longer match their digest.
        """
        ...

    async def info(self, artifact_id: str) -> StoredArtifact:
        """Describe an artifact without reading its bytes.

        Raises:
            ArtifactNotFoundError: no artifact has this id.
        """
        ...

    async def open_stream(self, artifact_id: str) -> ArtifactStream:
        """Start a streamed download of an artifact's payload.

        Raises:
            ArtifactNotFoundError: no artifact has this id.
        """
        ...

    async def exists(self, artifact_id: str) -> bool:
        """Return whether an artifact has this id."""
        ...

    async def find(self, name: str, version: int) -> StoredArtifact | None:
        """Return the artifact of model ``name`` at ``version``, if one is stored."""
        ...
