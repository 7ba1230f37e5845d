"""Checks both stores make: digests on the way in and out, one artifact per name and version."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator

from driftloop_artifacts.envelope import Artifact, sha256_hex
from driftloop_artifacts.errors import ArtifactConflictError, ArtifactRefused
from driftloop_artifacts.store.base import StoredArtifact

__all__ = ["check_consistent", "check_read", "same_or_conflict", "verified_chunks"]


def check_consistent(artifact: Artifact) -> None:
    """Refuse to store an artifact whose recorded digest is not its payload's."""
    if not hmac.compare_digest(sha256_hex(artifact.payload), artifact.sha256):
        raise ArtifactRefused("digest mismatch: the artifact's sha256 is not its payload's")


def check_read(info: StoredArtifact, payload: bytes) -> None:
    """Refuse bytes read back from a store that are not the bytes that were stored."""
    _compare(info, sha256_hex(payload), len(payload))


def same_or_conflict(existing: StoredArtifact, artifact: Artifact) -> StoredArtifact:
    """Return ``existing`` if it holds the same bytes as ``artifact``; raise otherwise."""
    if existing.sha256 != artifact.sha256:
        raise ArtifactConflictError(
            f"{existing.name} version {existing.version} already holds artifact {existing.id} "
            f"with sha256 {existing.sha256}, not {artifact.sha256}"
        )
    return existing


async def verified_chunks(
    info: StoredArtifact, chunks: AsyncIterator[bytes]
) -> AsyncIterator[bytes]:
    """Yield ``chunks`` and, at the end, refuse if they were not the stored bytes."""
    digest, size = hashlib.sha256(), 0
    async for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
        yield chunk
    _compare(info, digest.hexdigest(), size)


def _compare(info: StoredArtifact, sha256: str, size: int) -> None:
    if not hmac.compare_digest(sha256, info.sha256):
        raise ArtifactRefused(
            f"digest mismatch: artifact {info.id} read with sha256 {sha256}, stored {info.sha256}"
        )
    if size != info.size:
        raise ArtifactRefused(f"size mismatch: artifact {info.id} read {size} of {info.size} bytes")
