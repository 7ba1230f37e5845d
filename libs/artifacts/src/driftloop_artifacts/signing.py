"""HMAC-SHA256 signatures of artifact payloads, made and checked with the registry's key."""

from __future__ import annotations

import hashlib
import hmac

from driftloop_artifacts.errors import ArtifactRefused, InvalidSigningKeyError

__all__ = ["MIN_KEY_BYTES", "check_signing_key", "key_from_secret", "sign", "verify"]

MIN_KEY_BYTES = 32
"""Shortest signing key accepted: 256 bits, the output size of SHA-256."""

_DOMAIN = b"driftloop-artifact-v1\x00"


def check_signing_key(key: bytes | None) -> bytes:
    """Return ``key`` if it can sign; raise otherwise.

    Raises:
        InvalidSigningKeyError: ``key`` is missing or shorter than :data:`MIN_KEY_BYTES`.
    """
    if not key:
        raise InvalidSigningKeyError("no artifact signing key is configured")
    if len(key) < MIN_KEY_BYTES:
        raise InvalidSigningKeyError(
            f"the artifact signing key has {len(key)} bytes; at least {MIN_KEY_BYTES} are needed"
        )
    return key


def key_from_secret(secret: str) -> bytes:
    """Turn a setting's secret (e.g. ``DRIFTLOOP_ARTIFACT_SIGNING_KEY``) into a key.

    The secret's UTF-8 bytes are the key, so ``secrets.token_urlsafe(48)`` makes a good one.

    Raises:
        InvalidSigningKeyError: the secret is empty or shorter than :data:`MIN_KEY_BYTES` bytes.
    """
    return check_signing_key(secret.encode())


def _mac(key: bytes, format_: str, payload: bytes) -> str:
    message = _DOMAIN + format_.encode() + b"\x00" + payload
    return hmac.new(check_signing_key(key), message, hashlib.sha256).hexdigest()


def sign(key: bytes, format_: str, payload: bytes) -> str:
    """Return the HMAC-SHA256 (hex) of ``payload`` in ``format_`` under ``key``.

    The format is part of the signed message, so a signature cannot be moved to a payload that
    claims another format.

    Raises:
        InvalidSigningKeyError: ``key`` is too short.
    """
    return _mac(key, format_, payload)


def verify(key: bytes, format_: str, payload: bytes, signature: str | None) -> None:
    """Check ``signature`` against ``payload`` in constant time.

    Raises:
        InvalidSigningKeyError: ``key`` is too short.
        ArtifactRefused: the signature is missing or does not match.
    """
    expected = _mac(key, format_, payload)
    if signature is None:
        raise ArtifactRefused(f"{format_} artifact has no signature")
    if not hmac.compare_digest(expected.encode(), signature.encode("ascii", "replace")):
        raise ArtifactRefused(f"{format_} artifact signature does not match")
