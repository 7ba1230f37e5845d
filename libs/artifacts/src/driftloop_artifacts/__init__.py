"""Model artifacts that never execute untrusted code on load.

scikit-learn models travel as skops files loaded against an explicit allow-list of types; river
models as pickles signed with the registry's HMAC key and loaded by a restricted unpickler. Every
artifact carries the SHA-256 of its payload, checked before anything is deserialised, and lives
in GridFS (or an in-memory fake) behind :class:`~driftloop_artifacts.store.ArtifactStore`.
"""

from __future__ import annotations

from driftloop_artifacts.codec import decode_model, encode_model, format_for, framework_versions
from driftloop_artifacts.envelope import FORMATS, Artifact, ArtifactFormat, sha256_hex
from driftloop_artifacts.errors import (
    ArtifactConflictError,
    ArtifactError,
    ArtifactNotFoundError,
    ArtifactRefused,
    InvalidSigningKeyError,
    UnsupportedModelError,
)
from driftloop_artifacts.river_format import RIVER_SAFE_GLOBALS
from driftloop_artifacts.signing import MIN_KEY_BYTES, key_from_secret
from driftloop_artifacts.skops_format import SKOPS_ALLOWED_TYPES
from driftloop_artifacts.store import (
    ArtifactStore,
    ArtifactStream,
    GridFSArtifactStore,
    InMemoryArtifactStore,
    StoredArtifact,
    artifact_id_from_uri,
)

__all__ = [
    "FORMATS",
    "MIN_KEY_BYTES",
    "RIVER_SAFE_GLOBALS",
    "SKOPS_ALLOWED_TYPES",
    "Artifact",
    "ArtifactConflictError",
    "ArtifactError",
    "ArtifactFormat",
    "ArtifactNotFoundError",
    "ArtifactRefused",
    "ArtifactStore",
    "ArtifactStream",
    "GridFSArtifactStore",
    "InMemoryArtifactStore",
    "InvalidSigningKeyError",
    "StoredArtifact",
    "UnsupportedModelError",
    "artifact_id_from_uri",
    "decode_model",
    "encode_model",
    "format_for",
    "framework_versions",
    "key_from_secret",
    "sha256_hex",
]
