"""The scorer's settings (``DRIFTLOOP_*``)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from driftloop_runtime import HttpServiceSettings

__all__ = ["ScorerSettings"]


class ScorerSettings(HttpServiceSettings):
    """Settings of the scorer."""

    http_port: int = Field(8440, ge=1, le=65535, description="Port of the predict and stats API.")
    consumer_group: str = Field(
        "scorer",
        pattern=r"^[A-Za-z0-9._-]{1,100}$",
        description="Consumer group of the feature vectors; replicas share it.",
    )
    artifact_signing_key: SecretStr | None = Field(
        None,
        description="The registry's key of the HMAC signatures on pickled (river) artifacts; "
        "without it river models are refused.",
    )
    warmup_rows: int = Field(
        64,
        ge=1,
        le=100_000,
        description="Rows a model predicts before it serves: the dataset's most recent vectors, "
        "or zeros before any came.",
    )
    model_threads: int = Field(
        1,
        ge=1,
        le=256,
        description="Threads a model may use to predict a batch (OpenMP, BLAS). One keeps the "
        "event loop's core to itself: more pay off only with idle cores.",
    )
    max_entities: int = Field(
        100_000,
        ge=1,
        description="Most entities per dataset whose recent events the predict API keeps.",
    )
    max_events_per_entity: int = Field(
        5_000,
        ge=1,
        description="Most events per entity the predict API keeps (within the spec's longest "
        "window plus its lateness); past it the oldest are dropped, so a windowed aggregate "
        "over a busier entity covers only its newest events: a count stops at this number.",
    )
    predict_state: bool = Field(
        True,
        description="Keep the per-entity history the predict API computes windowed features "
        "from (reads every validated data event); off, the predict API answers 503.",
    )
    no_model_log_s: float = Field(
        60.0, gt=0, description="Least time between two logs of events left without a model."
    )
