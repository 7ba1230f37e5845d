"""The monitor's settings (``DRIFTLOOP_*``)."""

from __future__ import annotations

from pydantic import Field

from driftloop_monitor.monitoring import MonitorPolicy
from driftloop_runtime import HttpServiceSettings

__all__ = ["MonitorSettings"]

_DEFAULTS = MonitorPolicy()


class MonitorSettings(HttpServiceSettings):
    """Settings of the monitor (one replica: it holds every partition's statistics)."""

    http_port: int = Field(
        8460, ge=1, le=65535, description="Port of the health, stats and monitors API."
    )
    consumer_group: str = Field(
        "monitor",
        pattern=r"^[A-Za-z0-9._-]{1,100}$",
        description="Name the monitor's dead letters carry. Its positions are not a group's "
        "commits: they are saved with its state in its checkpoint.",
    )
    checkpoint_interval_s: float = Field(
        5.0,
        gt=0,
        description="Least time between two checkpoints of the state and positions (and one "
        "more on SIGTERM): what a crash replays at most.",
    )
    checkpoint_keep: int = Field(
        2, ge=1, le=100, description="Checkpoints kept in GridFS (the newest is the one used)."
    )
    poll_max_records: int = Field(
        5_000,
        ge=1,
        le=100_000,
        description="Most records one fetch of the three input topics hands to a batch.",
    )
    poll_timeout_ms: int = Field(
        200, ge=1, le=60_000, description="How long a fetch waits for records when caught up."
    )
    live_window: int = Field(
        _DEFAULTS.live_window,
        ge=1,
        description="Most recent values per watched signal tested against the reference.",
    )
    test_every: int = Field(
        _DEFAULTS.test_every,
        ge=1,
        description="New values between two tests of a data or prediction detector.",
    )
    rolling_window: int = Field(
        _DEFAULTS.rolling_window,
        ge=1,
        description="Labelled champion predictions behind the rolling metrics.",
    )
    report_every_s: int = Field(
        _DEFAULTS.report_every_s,
        ge=1,
        description="Event time between two performance reports, in seconds.",
    )
    join_ttl_s: int = Field(
        _DEFAULTS.join_ttl_s,
        ge=1,
        description="Event time a prediction waits for its label (and an early label for its "
        "prediction), in seconds.",
    )
    max_pending: int = Field(
        _DEFAULTS.max_pending,
        ge=1,
        description="Predictions and early labels held for the join per dataset, at most.",
    )
    reorder_s: int = Field(
        _DEFAULTS.reorder_s,
        ge=0,
        description="Event time a partition may lag the newest of its topic and still hold "
        "joined labels back, so they feed the detectors in event-time order, in seconds.",
    )
    max_fpr: float = Field(
        _DEFAULTS.max_fpr,
        gt=0,
        lt=1,
        description="False-positive rate the reported recall is read at (recall_at_fpr).",
    )

    def policy(self) -> MonitorPolicy:
        """The bounds every dataset's monitor works within."""
        return MonitorPolicy(
            live_window=self.live_window,
            test_every=self.test_every,
            rolling_window=self.rolling_window,
            report_every_s=self.report_every_s,
            join_ttl_s=self.join_ttl_s,
            max_pending=self.max_pending,
            reorder_s=self.reorder_s,
            max_fpr=self.max_fpr,
            producer="monitor",
        )
