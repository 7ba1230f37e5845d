"""The artifact envelope: format, payload, digest, signature and framework versions."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

from driftloop_artifacts.errors import ArtifactRefused

__all__ = ["FORMATS", "Artifact", "ArtifactFormat", "sha256_hex"]

ArtifactFormat = Literal["skops", "river-pickle"]
"""How the payload is serialised: skops (scikit-learn) or a signed pickle (river)."""

FORMATS: tuple[ArtifactFormat, ...] = get_args(ArtifactFormat)
"""Every artifact format, in a stable order."""


def sha256_hex(payload: bytes) -> str:
    """Return the SHA-256 digest of ``payload`` as lowercase hex."""
    return hashlib.sha256(payload).hexdigest()


@dataclass(frozen=True)
class Artifact:
    """A serialised model with what is needed to check it before it is loaded.

    Attributes:
        format: How ``payload`` is serialised.
        payload: The serialised model.
        sha256: SHA-256 of ``payload``, lowercase hex, as recorded when it was encoded.
        signature: HMAC-SHA256 of the payload in hex for ``river-pickle``; ``None`` for skops.
        metadata: Framework versions the model was made with (``python``, ``numpy``,
            ``scikit-learn`` and ``skops``, or ``river``).
    """

    format: ArtifactFormat
    payload: bytes = field(repr=False)
    sha256: str
    signature: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ArtifactRefused(f"unknown artifact format {self.format!r}")

    @property
    def size(self) -> int:
        """Length of the payload in bytes."""
        return len(self.payload)
