"""What can go wrong in the registry, in words the API turns into HTTP statuses."""

from __future__ import annotations

__all__ = ["ConflictError", "NotFoundError", "RegistryError", "UnprocessableError"]


class RegistryError(Exception):
    """Base of the registry's expected failures; the message is for the caller."""


class NotFoundError(RegistryError):
    """The spec, model, version or run does not exist (HTTP 404)."""


class ConflictError(RegistryError):
    """The request conflicts with the current state, e.g. a concurrent promotion (HTTP 409)."""


class UnprocessableError(RegistryError):
    """The request is well-formed but cannot be carried out as asked (HTTP 422)."""
