"""Demo results built by hand for the unit tests of the demo's figures."""

from __future__ import annotations

import random
from pathlib import Path

from driftloop_cli.demo import (
    DemoOptions,
    DemoResult,
    LoopEvent,
    SeenPrediction,
    StackSettings,
    StreamEvent,
)
from driftloop_contracts import DriftDetected, ModelPromoted

__all__ = ["promoted", "scripted_result"]

START = 1_000.0


def scripted_result(
    *,
    events: int = 6_000,
    change_at: int = 3_000,
    detected_at: int = 3_600,
    promoted_at: int = 4_000,
    label_delay: int = 250,
) -> DemoResult:
    """A stream whose v1 separates fraud perfectly before ``change_at`` and not at all after it,
    until v2 (promoted when ``promoted_at`` transactions were published) separates it again;
    every prediction arrives 0.1 s after its publication (0.5 s for every 50th)."""
    rng = random.Random(5)
    options = DemoOptions(
        events=events, drift_at=change_at, label_delay=label_delay, window=1_000, plot=None
    )
    stream = [
        StreamEvent(n, f"txn-{n}", rng.random() < 0.05, None, START + n / 100)
        for n in range(events)
    ]
    predictions = {e.event_id: _prediction(e, change_at, promoted_at, rng) for e in stream}
    loop = [
        LoopEvent("promoted", promoted(1), START, START, 0),
        LoopEvent("drift", DriftDetected.example(), START, START, detected_at),
        LoopEvent("promoted", promoted(2), START, START, promoted_at),
    ]
    stack = StackSettings("127.0.0.1:1", "mongodb://127.0.0.1:2", "driftloop", Path("."))
    return DemoResult(
        options, stack, stream, predictions, loop, START, START + events / 100, complete=True
    )


def _prediction(
    event: StreamEvent, change_at: int, promoted_at: int, rng: random.Random
) -> SeenPrediction:
    version = 1 if event.position < promoted_at else 2
    knows = event.position < change_at or version == 2
    score = (0.9 if event.is_fraud else 0.1) if knows else rng.random()
    wait = 0.5 if event.position % 50 == 0 else 0.1
    return SeenPrediction(event.event_id, version, score, event.published_at + wait)


def promoted(version: int, alias: str = "champion") -> ModelPromoted:
    """``ModelPromoted.example()`` of ``version`` to ``alias``."""
    return ModelPromoted.example().model_copy(update={"version": version, "alias": alias})
