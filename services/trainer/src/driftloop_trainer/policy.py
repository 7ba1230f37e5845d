"""When a dataset is trained: coalescing, cooldown, schedule and bootstrap (pure functions).

- **Coalescing**: one run serves every trigger of its dataset that is pending when it ends
  (those it started with and those that came while it trained).
- **Cooldown** (spec ``training.cooldown``): after a run ends, automatic triggers (drift,
  schedule, bootstrap) wait until the cooldown has passed; a manual request starts a run at
  once and that run serves the automatic triggers that were waiting too.
- **Schedule** (spec ``training.schedule``): a run is due ``schedule`` after the last one
  started (whatever started it); the first model comes from the bootstrap.
- **Post-change rows**: automatic triggers that start the data at a change point (a drift
  alarm) wait until the offline store holds ``training.min_labelled_rows`` labelled rows since
  it, so the run learns the changed world only (labels reach the offline store later than the
  monitor's alarm); after ``max_wait_s`` they train on what there is. A manual request does
  not wait.
- **Bootstrap**: a dataset with no model (no succeeded run here, no champion) is trained once
  its offline store holds ``training.min_labelled_rows`` labelled rows; a failed attempt is
  retried by itself only after ``bootstrap_retry_s``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from driftloop_spec import format_duration
from driftloop_trainer.triggers import Trigger

__all__ = [
    "RunHistory",
    "bootstrap_trigger",
    "may_start",
    "needs_bootstrap",
    "needs_post_change_rows",
    "schedule_trigger",
    "window_start",
]

PRODUCER = "trainer"


@dataclass(frozen=True, slots=True)
class RunHistory:
    """What a dataset's past runs say about the next one."""

    runs: int = 0
    last_started: datetime | None = None
    last_finished: datetime | None = None
    succeeded: bool = False


def may_start(
    pending: Sequence[Trigger], history: RunHistory, cooldown_s: int | None, now: datetime
) -> bool:
    """Whether a run for ``pending`` may start now: at once for a manual request, else once the
    cooldown since the last run has passed."""
    if not pending:
        return False
    if any(not t.automatic for t in pending) or cooldown_s is None:
        return True
    return history.last_finished is None or now >= history.last_finished + timedelta(
        seconds=cooldown_s
    )


def needs_post_change_rows(pending: Sequence[Trigger], now: datetime, max_wait_s: float) -> bool:
    """Whether a run for ``pending`` must first see enough labelled rows after its window
    start: only automatic triggers with a start wait, and not longer than ``max_wait_s``."""
    if window_start(pending) is None or any(not t.automatic for t in pending):
        return False
    received = [t.received_at for t in pending if t.received_at is not None]
    return not received or now < min(received) + timedelta(seconds=max_wait_s)


def window_start(triggers: Sequence[Trigger]) -> datetime | None:
    """Where a run's rows start: the latest start any trigger asks for (a drift's change point,
    a request's ``window_start``), since the data must reflect the latest change; ``None`` for
    the spec's whole window."""
    starts = [t.window_start for t in triggers if t.window_start is not None]
    return max(starts) if starts else None


def schedule_trigger(
    dataset: str, history: RunHistory, schedule_s: int | None, now: datetime
) -> Trigger | None:
    """The schedule's trigger if a run is due; its id is the due time, so every replica that
    sees it due records the same one."""
    if schedule_s is None or history.last_started is None:
        return None
    due = history.last_started + timedelta(seconds=schedule_s)
    if now < due:
        return None
    return Trigger(
        event_id=f"schedule:{dataset}:{int(due.timestamp())}",
        dataset=dataset,
        reason="schedule",
        requested_by=PRODUCER,
        occurred_at=due,
        detail=f"every {format_duration(schedule_s)}",
    )


def needs_bootstrap(history: RunHistory, *, serving: bool, retry_s: float, now: datetime) -> bool:
    """Whether the dataset still needs its first model and may try for it now."""
    if history.succeeded or serving:
        return False
    return history.last_finished is None or now >= history.last_finished + timedelta(
        seconds=retry_s
    )


def bootstrap_trigger(
    dataset: str, history: RunHistory, labelled_rows: int, min_rows: int, now: datetime
) -> Trigger | None:
    """The bootstrap's trigger once ``min_rows`` labelled rows exist; one id per attempt (the
    number of runs so far), so replicas record an attempt once."""
    if labelled_rows < min_rows:
        return None
    return Trigger(
        event_id=f"bootstrap:{dataset}:{history.runs}",
        dataset=dataset,
        reason="bootstrap",
        requested_by=PRODUCER,
        occurred_at=now,
        detail=f"first model: {labelled_rows} labelled rows (the spec needs {min_rows})",
    )
