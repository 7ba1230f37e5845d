"""Where artifacts live: the store interface, GridFS, and an in-memory fake."""

from __future__ import annotations

from driftloop_artifacts.store.base import (
    URI_PREFIX,
    ArtifactStore,
    ArtifactStream,
    MetadataValue,
    StoredArtifact,
    artifact_id_from_uri,
)
from driftloop_artifacts.store.gridfs_store import BUCKET, GridFSArtifactStore
from driftloop_artifacts.store.memory import InMemoryArtifactStore

__all__ = [
    "BUCKET",
    "URI_PREFIX",
    "ArtifactStore",
    "ArtifactStream",
    "GridFSArtifactStore",
    "InMemoryArtifactStore",
    "MetadataValue",
    "StoredArtifact",
    "artifact_id_from_uri",
]
