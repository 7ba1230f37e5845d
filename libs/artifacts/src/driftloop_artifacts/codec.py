"""Turn a model into an :class:`Artifact` and back, with every check done before loading.

Pure: bytes in, bytes out, no I/O. ``encode_model`` picks the format from the model's type
(scikit-learn → skops, river → signed pickle); ``decode_model`` checks the digest, then the
signature or the allow-list, and only then loads.
"""

from __future__ import annotations

import hmac
import platform
from importlib.metadata import version
from typing import Any

from river.base import Base as RiverBase
from sklearn.base import BaseEstimator

from driftloop_artifacts.envelope import Artifact, ArtifactFormat, sha256_hex
from driftloop_artifacts.errors import ArtifactRefused, UnsupportedModelError
from driftloop_artifacts.river_format import dump_river, load_river
from driftloop_artifacts.signing import check_signing_key, sign, verify
from driftloop_artifacts.skops_format import dump_sklearn, load_sklearn

__all__ = ["decode_model", "encode_model", "format_for", "framework_versions"]

_FRAMEWORKS: dict[ArtifactFormat, tuple[str, ...]] = {
    "skops": ("numpy", "scikit-learn", "skops"),
    "river-pickle": ("numpy", "river"),
}


def format_for(model: object) -> ArtifactFormat:
    """Return the artifact format for ``model``.

    Raises:
        UnsupportedModelError: ``model`` is neither a scikit-learn estimator nor a river model.
    """
    if isinstance(model, BaseEstimator):
        return "skops"
    if isinstance(model, RiverBase):
        return "river-pickle"
    raise UnsupportedModelError(f"no artifact format for {type(model).__qualname__}")


def framework_versions(format_: ArtifactFormat) -> dict[str, str]:
    """Return the versions of Python and the libraries an artifact of ``format_`` depends on."""
    versions = {name: version(name) for name in _FRAMEWORKS[format_]}
    return {"python": platform.python_version(), **versions}


def encode_model(model: object, *, signing_key: bytes | None = None) -> Artifact:
    """Serialise ``model`` into an artifact.

    Args:
        model: A fitted (or unfitted) scikit-learn estimator or pipeline, or a river model.
        signing_key: The registry's key; required for river models, unused for scikit-learn.

    Raises:
        UnsupportedModelError: the model's type has no format, or it holds types driftloop would
            refuse to load.
        InvalidSigningKeyError: a river model and no key of at least 32 bytes.
    """
    format_ = format_for(model)
    if format_ == "skops":
        payload = dump_sklearn(model)
        signature = None
    else:
        key = check_signing_key(signing_key)
        payload = dump_river(model)
        signature = sign(key, format_, payload)
    return Artifact(
        format=format_,
        payload=payload,
        sha256=sha256_hex(payload),
        signature=signature,
        metadata=framework_versions(format_),
    )


def decode_model(
    artifact: Artifact, *, signing_key: bytes | None = None, expected_sha256: str | None = None
) -> Any:
    """Check ``artifact`` and load its model.

    The payload's SHA-256 must equal ``artifact.sha256`` (and ``expected_sha256``, the digest
    the registry recorded, when given); a ``river-pickle`` payload must carry a valid signature
    under ``signing_key``; a ``skops`` payload may hold only allow-listed types. Nothing is
    deserialised before these checks pass.

    Args:
        artifact: The artifact to load.
        signing_key: The registry's key; required for ``river-pickle`` artifacts.
        expected_sha256: The digest from the registry or a lifecycle event, if known.

    Raises:
        ArtifactRefused: a check failed.
        InvalidSigningKeyError: a ``river-pickle`` artifact and no key of at least 32 bytes.
    """
    _check_digest(artifact, expected_sha256)
    if artifact.format == "skops":
        return load_sklearn(artifact.payload)
    verify(check_signing_key(signing_key), artifact.format, artifact.payload, artifact.signature)
    return load_river(artifact.payload)


def _check_digest(artifact: Artifact, expected_sha256: str | None) -> None:
    actual = sha256_hex(artifact.payload).encode()
    for claimed in (artifact.sha256, expected_sha256):
        if claimed is not None and not hmac.compare_digest(actual, claimed.lower().encode()):
            raise ArtifactRefused(
                f"digest mismatch: payload has sha256 {actual.decode()}, expected {claimed}"
            )
