"""The registry's use of the artifact store: GridFS, and vouching for a training result's model."""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from driftloop_artifacts import (
    ArtifactRefused,
    ArtifactStore,
    GridFSArtifactStore,
    artifact_id_from_uri,
    key_from_secret,
)
from driftloop_artifacts.signing import verify
from driftloop_contracts import TrainingCompleted
from driftloop_registry.config import RegistrySettings
from driftloop_registry.registry import ArtifactCheck
from driftloop_runtime.mongo import Document

__all__ = ["artifact_checker", "artifact_store"]


async def artifact_store(database: AsyncDatabase[Document]) -> GridFSArtifactStore:
    """The GridFS artifact store in the registry's database, indexes in place."""
    store = GridFSArtifactStore(database)
    await store.ensure_indexes()
    return store


def artifact_checker(artifacts: ArtifactStore, settings: RegistrySettings) -> ArtifactCheck:
    """Check that a training result's artifact is stored, intact, the one it names, and (for a
    pickle) signed with the registry's key; raise ``ArtifactRefused`` otherwise."""
    key = settings.artifact_signing_key

    async def check(result: TrainingCompleted) -> None:
        ref = result.artifact
        if ref is None:
            raise ArtifactRefused(f"training run {result.run_id} names no artifact")
        artifact = await artifacts.get(artifact_id_from_uri(ref.uri))  # digest of the bytes
        if artifact.sha256 != ref.sha256 or artifact.format != ref.format:
            raise ArtifactRefused(
                f"{ref.uri} holds a {artifact.format} artifact with SHA-256 {artifact.sha256}; "
                f"training run {result.run_id} names a {ref.format} one with {ref.sha256}"
            )
        if artifact.format == "river-pickle":
            if key is None:
                raise ArtifactRefused("a signed artifact needs DRIFTLOOP_ARTIFACT_SIGNING_KEY")
            verify(
                key_from_secret(key.get_secret_value()),
                artifact.format,
                artifact.payload,
                artifact.signature,
            )

    return check
