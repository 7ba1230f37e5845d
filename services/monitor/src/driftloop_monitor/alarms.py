"""Alarms: cooldowns per detector, and fired alarms waiting for post-change labels.

A detector that fires inside its cooldown is ignored; out of it, the firing starts a new
cooldown (event time) and becomes a pending alarm, which is ready once
``min_post_change_labels`` labelled champion predictions with event time at or after its
change point have been joined. Retraining on a window that is still mostly the old concept
would not recover, so the change point and those labels decide when the alarm is published.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Alarm", "Alarms"]


@dataclass(slots=True)
class Alarm:
    """A detector's firing: what fired, on which window, and where the change began."""

    kind: str
    signal: str
    detector: str
    statistic: float
    threshold: float
    fired_at: float
    window: tuple[float, float, int]
    change_at: float
    change_partition: int | None
    change_offset: int | None
    evidence: dict[str, float] = field(default_factory=dict)
    post_change_labels: int = 0

    @property
    def key(self) -> str:
        """The detector's key: kind, signal and method."""
        return f"{self.kind}/{self.signal}/{self.detector}"


class Alarms:
    """Cooldowns and pending alarms of one champion version."""

    def __init__(self, cooldown: float, min_post_change_labels: int) -> None:
        self._cooldown = cooldown
        self._min_labels = min_post_change_labels
        self.cooldown_until: dict[str, float] = {}
        self.pending: dict[str, Alarm] = {}

    def fire(self, alarm: Alarm, labelled_since: int) -> bool:
        """Record a firing unless its detector is cooling down; ``labelled_since`` is how many
        labelled champion predictions at or after its change point are already joined."""
        if alarm.fired_at < self.cooldown_until.get(alarm.key, float("-inf")):
            return False
        self.cooldown_until[alarm.key] = alarm.fired_at + self._cooldown
        alarm.post_change_labels = labelled_since
        self.pending[alarm.key] = alarm
        return True

    def labelled(self, at: float) -> None:
        """Count one joined champion prediction of event time ``at``."""
        for alarm in self.pending.values():
            if at >= alarm.change_at:
                alarm.post_change_labels += 1

    def ready(self) -> list[Alarm]:
        """Return (and forget) the alarms with enough post-change labels, oldest first."""
        done = [a for a in self.pending.values() if a.post_change_labels >= self._min_labels]
        for alarm in done:
            del self.pending[alarm.key]
        return sorted(done, key=lambda a: (a.fired_at, a.key))

    def to_state(self) -> dict[str, Any]:
        """Return cooldowns and pending alarms as plain data."""
        return {
            "cooldown_until": dict(self.cooldown_until),
            "pending": [asdict(alarm) for alarm in self.pending.values()],
        }

    @classmethod
    def from_state(
        cls, cooldown: float, min_post_change_labels: int, state: dict[str, Any]
    ) -> Alarms:
        """Rebuild from ``to_state()``."""
        alarms = cls(cooldown, min_post_change_labels)
        alarms.cooldown_until.update(state["cooldown_until"])
        for document in state["pending"]:
            alarm = Alarm(**{**document, "window": tuple(document["window"])})
            alarms.pending[alarm.key] = alarm
        return alarms
