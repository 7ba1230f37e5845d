"""The registry's settings (``DRIFTLOOP_*``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from driftloop_runtime import HttpServiceSettings

__all__ = ["RegistrySettings", "TokenGrant"]


class TokenGrant(BaseModel):
    """A bearer token and the role it grants: ``viewer`` reads, ``approver`` also changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token: SecretStr = Field(min_length=16, description="The bearer token (at least 16 chars).")
    role: Literal["viewer", "approver"]


class RegistrySettings(HttpServiceSettings):
    """Settings of the registry service."""

    http_port: int = Field(8410, ge=1, le=65535, description="Port of the REST API.")
    registry_tokens: dict[str, TokenGrant] = Field(
        default_factory=dict,
        description="Who may call the API, by actor name, as JSON: "
        '{"alice": {"token": "...", "role": "approver"}}.',
    )
    artifact_signing_key: SecretStr | None = Field(
        None, description="Key of the HMAC signatures on pickled (river) artifacts."
    )
