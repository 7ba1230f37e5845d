"""The trainer's settings (``DRIFTLOOP_*``)."""

from __future__ import annotations

import os
import socket

from pydantic import Field, SecretStr

from driftloop_contracts.reference import MAX_BINS
from driftloop_runtime import HttpServiceSettings

__all__ = ["TrainerSettings"]


def _worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"[:100]


class TrainerSettings(HttpServiceSettings):
    """Settings of the trainer service."""

    http_port: int = Field(8450, ge=1, le=65535, description="Port of the health and runs API.")
    consumer_group: str = Field(
        "trainer",
        pattern=r"^[A-Za-z0-9._-]{1,100}$",
        description="Consumer group of the train requests; the drift events' group appends "
        "'-drift'.",
    )
    worker_id: str = Field(
        default_factory=_worker_id,
        min_length=1,
        max_length=100,
        description="This replica's name on the leases it holds (default: host name and pid).",
    )
    lease_s: float = Field(
        60.0,
        ge=1.0,
        description="How long a dataset's lease lasts unless renewed; the holder renews it every "
        "third of that while it trains, so a crashed trainer's datasets free up within it.",
    )
    poll_interval_s: float = Field(
        5.0,
        gt=0,
        description="How often the worker looks for pending triggers when no new one woke it "
        "(a trigger recorded by another replica, a cooldown that ended).",
    )
    plan_interval_s: float = Field(
        10.0,
        gt=0,
        description="How often the worker checks schedules and whether datasets without a model "
        "have enough labelled rows for their first (a count in the offline store each).",
    )
    bootstrap_retry_s: float = Field(
        600.0,
        ge=0,
        description="After a failed bootstrap run (a dataset's first model), how long before "
        "the trainer tries again by itself.",
    )
    post_change_wait_s: float = Field(
        3600.0,
        ge=0,
        description="How long a drift alarm's run waits (wall clock) for the spec's "
        "min_labelled_rows labelled rows after the change point before it trains on what there "
        "is.",
    )
    post_change_poll_s: float = Field(
        1.0,
        gt=0,
        description="While a drift alarm's run waits for post-change rows, how often the worker "
        "counts them again (an indexed count of the newest labels), so the run starts within "
        "this of the rows existing.",
    )
    max_training_rows: int = Field(
        1_000_000,
        ge=10,
        description="Most labelled rows one run reads (the most recent of its window).",
    )
    model_threads: int = Field(
        1,
        ge=1,
        le=256,
        description="Threads a run's fit and evaluation may use (OpenMP, BLAS). One leaves the "
        "other services their cores: more pay off only with idle cores.",
    )
    reference_bins: int = Field(
        10, ge=1, le=MAX_BINS, description="Bins of each reference histogram."
    )
    artifact_signing_key: SecretStr | None = Field(
        None,
        description="Key of the HMAC signatures on pickled (river) artifacts, the registry's and "
        "the scorer's; without it a river model cannot be stored nor a river champion loaded.",
    )
