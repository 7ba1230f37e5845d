"""When a dataset is trained: cooldown, coalesced window starts, schedule, bootstrap."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from driftloop_trainer.policy import (
    RunHistory,
    bootstrap_trigger,
    may_start,
    needs_bootstrap,
    needs_post_change_rows,
    schedule_trigger,
    window_start,
)
from driftloop_trainer.triggers import Reason, Trigger
from tests.integration.trainer.data import T0

pytestmark = pytest.mark.unit

MINUTE = timedelta(minutes=1)
FINISHED = RunHistory(runs=3, last_started=T0 - 5 * MINUTE, last_finished=T0, succeeded=True)


def trigger(reason: Reason, start: datetime | None = None, n: int = 0) -> Trigger:
    return Trigger(f"{reason}-{n}", "cards", reason, "test", T0, window_start=start)


def test_automatic_triggers_wait_out_the_cooldown() -> None:
    drift = [trigger("drift")]
    assert not may_start(drift, FINISHED, 30 * 60, T0 + 29 * MINUTE)
    assert may_start(drift, FINISHED, 30 * 60, T0 + 30 * MINUTE)
    assert not may_start([trigger("schedule")], FINISHED, 30 * 60, T0 + MINUTE)
    assert not may_start([trigger("bootstrap")], FINISHED, 30 * 60, T0 + MINUTE)


def test_a_manual_request_starts_at_once_and_takes_the_waiting_ones_along() -> None:
    assert may_start([trigger("drift"), trigger("manual")], FINISHED, 30 * 60, T0 + MINUTE)


def test_without_a_cooldown_or_a_past_run_nothing_waits() -> None:
    assert may_start([trigger("drift")], FINISHED, None, T0)
    assert may_start([trigger("drift")], RunHistory(), 30 * 60, T0)
    assert not may_start([], RunHistory(), None, T0)


def test_coalesced_triggers_train_from_the_latest_start_asked_for() -> None:
    triggers = [
        trigger("drift", T0 - 60 * MINUTE, 1),
        trigger("manual"),
        trigger("drift", T0 - 20 * MINUTE, 2),
    ]
    assert window_start(triggers) == T0 - 20 * MINUTE
    assert window_start([trigger("manual"), trigger("schedule")]) is None


def test_only_automatic_triggers_from_a_change_point_wait_for_post_change_rows() -> None:
    start = T0 - 20 * MINUTE
    drift = replace(trigger("drift", start), received_at=T0)
    assert needs_post_change_rows([drift], T0 + MINUTE, 3600)
    assert not needs_post_change_rows([drift], T0 + 60 * MINUTE, 3600)  # waited long enough
    assert not needs_post_change_rows([drift, trigger("manual")], T0 + MINUTE, 3600)
    assert not needs_post_change_rows([trigger("drift")], T0 + MINUTE, 3600)  # no change point


def test_the_schedule_is_due_its_period_after_the_last_start() -> None:
    assert schedule_trigger("cards", FINISHED, 3600, T0 + 54 * MINUTE) is None
    due = schedule_trigger("cards", FINISHED, 3600, T0 + 56 * MINUTE)
    assert due is not None
    assert (due.reason, due.occurred_at) == ("schedule", T0 + 55 * MINUTE)
    assert due.event_id == f"schedule:cards:{int((T0 + 55 * MINUTE).timestamp())}"
    assert due == schedule_trigger("cards", FINISHED, 3600, T0 + 90 * MINUTE)  # one per period
    assert schedule_trigger("cards", RunHistory(), 3600, T0) is None  # the bootstrap comes first
    assert schedule_trigger("cards", FINISHED, None, T0 + 600 * MINUTE) is None


def test_the_bootstrap_waits_for_enough_labelled_rows() -> None:
    empty = RunHistory()
    assert needs_bootstrap(empty, serving=False, retry_s=600, now=T0)
    assert bootstrap_trigger("cards", empty, 39, 40, T0) is None
    first = bootstrap_trigger("cards", empty, 40, 40, T0)
    assert first is not None
    assert (first.event_id, first.reason, first.automatic) == (
        "bootstrap:cards:0",
        "bootstrap",
        True,
    )


def test_no_bootstrap_once_a_model_exists_and_a_failed_one_retries_later() -> None:
    assert not needs_bootstrap(FINISHED, serving=False, retry_s=600, now=T0 + 60 * MINUTE)
    assert not needs_bootstrap(RunHistory(), serving=True, retry_s=600, now=T0)
    failed = RunHistory(runs=1, last_started=T0 - MINUTE, last_finished=T0)
    assert not needs_bootstrap(failed, serving=False, retry_s=600, now=T0 + 9 * MINUTE)
    assert needs_bootstrap(failed, serving=False, retry_s=600, now=T0 + 10 * MINUTE)
    retry = bootstrap_trigger("cards", failed, 40, 40, T0 + 10 * MINUTE)
    assert retry is not None
    assert retry.event_id == "bootstrap:cards:1"  # a new attempt, a new id
