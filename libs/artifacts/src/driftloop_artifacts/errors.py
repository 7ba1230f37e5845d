"""The exceptions of driftloop's model artifacts."""

from __future__ import annotations

__all__ = [
    "ArtifactConflictError",
    "ArtifactError",
    "ArtifactNotFoundError",
    "ArtifactRefused",
    "InvalidSigningKeyError",
    "UnsupportedModelError",
]


class ArtifactError(Exception):
    """Base class of every error this library raises."""


class ArtifactRefused(ArtifactError):  # noqa: N818 - the name the services were promised
    """An artifact failed a check and was not loaded.

    Raised for a digest mismatch, a missing or wrong signature, a type outside the allow-list,
    a global the restricted unpickler does not allow, or a malformed tree. Treat it as a sign of
    tampering or corruption: never retry the load with weaker checks.
    """


class InvalidSigningKeyError(ArtifactError, ValueError):
    """The signing key is missing, empty or shorter than the minimum length."""


class UnsupportedModelError(ArtifactError, TypeError):
    """The model cannot be turned into an artifact driftloop would load again."""


class ArtifactNotFoundError(ArtifactError, LookupError):
    """No artifact is stored under the given id."""


class ArtifactConflictError(ArtifactError):
    """A model name and version already hold an artifact with other bytes."""
