"""The feature service's settings (``DRIFTLOOP_*``)."""

from __future__ import annotations

from pydantic import Field

from driftloop_runtime import HttpServiceSettings

__all__ = ["FeatureSettings"]


class FeatureSettings(HttpServiceSettings):
    """Settings of the feature service."""

    http_port: int = Field(8430, ge=1, le=65535, description="Port of the health and stats API.")
    consumer_group: str = Field(
        "feature",
        pattern=r"^[A-Za-z0-9._-]{1,100}$",
        description="Consumer group of the features; the offline store's writers use it with "
        "'-offline' and '-labels' appended.",
    )
    max_entities: int = Field(
        100_000, ge=1, description="Most entities whose windows one partition's state keeps."
    )
    label_wait_s: float = Field(
        7 * 24 * 3600.0,
        gt=0,
        description="How long a label waits for its feature row before it expires (counted).",
    )
