"""The ingestion service's settings (``DRIFTLOOP_*``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, SecretStr, field_validator

from driftloop_runtime import HttpServiceSettings

__all__ = ["IngestionSettings"]


class IngestionSettings(HttpServiceSettings):
    """Settings of the ingestion service."""

    http_port: int = Field(8420, ge=1, le=65535, description="Port of the HTTP API.")
    ingestion_max_event_bytes: int = Field(
        256 * 1024,
        ge=256,
        le=1024 * 1024,
        description="Largest raw event accepted, in bytes; a larger one is rejected with its size.",
    )
    ingestion_dedup_capacity: int = Field(
        100_000,
        ge=1,
        description="Event ids remembered per input (data, outcomes) to drop duplicates.",
    )
    ingestion_http_max_batch: int = Field(
        1_000, ge=1, le=100_000, description="Most events one HTTP request may carry (else 413)."
    )
    ingestion_http_max_body_bytes: int = Field(
        8 * 1024 * 1024, ge=1024, description="Largest HTTP request body, in bytes (else 413)."
    )
    ingestion_token: SecretStr | None = Field(
        None,
        description="Bearer token the HTTP API requires on POST when set (at least 16 "
        "characters); unset or empty, the API is open.",
        min_length=16,
    )

    @field_validator("ingestion_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        # docker-compose passes `${DRIFTLOOP_INGESTION_TOKEN:-}` as an empty string when unset
        return None if value == "" else value
