"""What ``driftloop demo`` (and the drift-recovery benchmark) asks for and gets back.

``DemoOptions`` are the demo's knobs; ``DemoResult`` is everything the run saw, in stream order,
with wall-clock times (``time.time()`` seconds) so a benchmark can compute its own figures on
the same events: the stream as published, the champion predictions a downstream consumer read,
and the loop's control events (drift, trainings, registrations, promotions) with their Kafka
record timestamps and the stream position when the demo saw them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from driftloop_cli.simulation import FraudPattern
from driftloop_contracts import (
    DriftDetected,
    ModelPromoted,
    ModelRegistered,
    TrainingCompleted,
)

__all__ = [
    "DEFAULT_HOME",
    "DemoError",
    "DemoOptions",
    "DemoOptionsError",
    "DemoResult",
    "LoopEvent",
    "LoopEventKind",
    "SeenPrediction",
    "StackHandle",
    "StackSettings",
    "StreamEvent",
]

DEFAULT_HOME = Path(".driftloop/demo")
"""The demo's own local stack home: never the one ``driftloop local up`` uses."""


class DemoOptionsError(ValueError):
    """The options contradict each other or are out of range; the message says which."""


class DemoError(RuntimeError):
    """The loop did not complete (no first model in time, a service died, ...); the message
    says what happened and where to look."""


@dataclass(frozen=True)
class DemoOptions:
    """How long a stream to play, where it changes, how fast, and where the results go."""

    events: int = 40_000
    """Live transactions to play after the labelled history: at the default rate 160 s, of
    which 80 s after the change: a retraining took 40-55 s of wall clock on 2 cores, after the
    alarm (~4,000 transactions past the change) and the spec's 30 s training cooldown."""
    drift_at: int | None = None
    """Live transaction number where the fraud pattern changes; ``None``: half of ``events``."""
    no_drift: bool = False
    """Play a stationary stream (the pattern never changes)."""
    rate: float = 250.0
    """Live transactions published per second: what 2 cores sustain with the six services
    (measured: p50 0.5-0.7 s from publish to prediction; at 400/s the pipeline fell behind)."""
    label_delay: int = 250
    """Each transaction's outcome is published this many transactions after it."""
    history: int = 3_000
    """Labelled transactions published before the live stream (the first model's data)."""
    seed: int = 11
    """Seed of the transaction generator: the same options give the same stream."""
    window: int = 1_000
    """Champion predictions (in stream order) the rolling quality metric is computed over."""
    plot: Path | None = DEFAULT_HOME / "demo.png"
    """Where the PNG of the rolling metric goes; ``None``: no plot."""
    summary: Path | None = DEFAULT_HOME / "summary.json"
    """Where the JSON summary goes; ``None``: not written."""
    home: Path = DEFAULT_HOME
    """The demo's local stack home (state, logs, traces, the store's files)."""
    spec: Path = Path("specs/fraud.yaml")
    """The dataset spec applied before the history is published."""
    first_model_timeout_s: float = 300.0
    """How long to wait for version 1 to be trained, promoted and served."""
    tail_timeout_s: float = 120.0
    """How long to wait, after the last event, for the predictions still missing."""
    keep_stack: bool = False
    """Leave the stack running and return a handle to stop it (``DemoResult.stack_handle``)."""
    live: bool | None = None
    """Live progress table (``True``), plain progress lines (``False``), or decide by whether
    stdout is a terminal (``None``)."""
    quiet: bool = False
    """No progress output at all (for benchmarks and tests)."""

    @property
    def change_at(self) -> int | None:
        """Live transaction number where the fraud pattern changes, or ``None`` for no change."""
        if self.no_drift:
            return None
        return self.events // 2 if self.drift_at is None else self.drift_at

    def validate(self) -> DemoOptions:
        """Return the options, or raise ``DemoOptionsError`` saying which one is wrong."""
        problems = [message for wrong, message in self._checks() if wrong]
        if problems:
            raise DemoOptionsError("; ".join(problems))
        return self

    def _checks(self) -> list[tuple[bool, str]]:
        return [
            (self.events < 1, f"--events must be at least 1 (got {self.events})"),
            (self.rate <= 0, f"--rate must be positive (got {self.rate})"),
            (self.label_delay < 0, f"--label-delay must be >= 0 (got {self.label_delay})"),
            (self.history < 1, f"--history must be at least 1 (got {self.history})"),
            (self.window < 10, f"the rolling window must hold at least 10 (got {self.window})"),
            (
                self.no_drift and self.drift_at is not None,
                "--drift-at and --no-drift exclude each other",
            ),
            (
                self.drift_at is not None and not 0 < self.drift_at < self.events,
                f"--drift-at must be between 1 and --events - 1 ({self.events - 1}), "
                f"got {self.drift_at}",
            ),
            (not self.spec.is_file(), f"spec file {self.spec} not found (run from the repo root)"),
        ]


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One live transaction as published: its place in the stream and the truth about it."""

    position: int
    """Its number in the live stream (0 = first live transaction after the history)."""
    event_id: str
    is_fraud: bool
    pattern: FraudPattern | None
    """The fraud pattern it follows (``None`` for a legitimate transaction)."""
    published_at: float
    """Wall-clock time the demo handed it to the producer."""


@dataclass(frozen=True, slots=True)
class SeenPrediction:
    """A champion prediction as the downstream consumer received it."""

    event_id: str
    version: int
    score: float
    """Probability of the positive class (fraud)."""
    received_at: float
    """Wall-clock time the downstream consumer read it."""


LoopEventKind = Literal["drift", "training", "registered", "promoted"]

LoopContract = DriftDetected | TrainingCompleted | ModelRegistered | ModelPromoted


@dataclass(frozen=True, slots=True)
class LoopEvent:
    """A control event of the loop, with when it was written and when the demo saw it."""

    kind: LoopEventKind
    event: LoopContract
    timestamp: float
    """The Kafka record's timestamp (wall clock, seconds)."""
    seen_at: float
    """Wall-clock time the demo read it."""
    position: int
    """Live transactions published when the demo read it."""


@dataclass(frozen=True)
class StackSettings:
    """Where the demo's stack is, for clients of its broker, store and services."""

    bootstrap_servers: str
    mongo_uri: str
    database: str
    home: Path
    env: dict[str, str] = field(default_factory=dict)
    """Everything ``local up`` wrote to ``<home>/local.env`` (service URLs, the token)."""


@dataclass(frozen=True)
class StackHandle:
    """A stack left running by ``keep_stack=True``; ``stop()`` stops exactly what it started."""

    settings: StackSettings
    stop: Callable[[], None]


@dataclass
class DemoResult:
    """What a demo run saw, in the order it saw it."""

    options: DemoOptions
    stack: StackSettings
    stream: list[StreamEvent]
    predictions: dict[str, SeenPrediction]
    """Champion predictions of live transactions, by event id (the first one received)."""
    loop_events: list[LoopEvent]
    started_at: float
    """Wall-clock time the live stream started."""
    finished_at: float
    """Wall-clock time the last live transaction was published."""
    complete: bool
    """Whether every live transaction got its champion prediction within the tail timeout."""
    stack_handle: StackHandle | None = None

    def of_kind(self, kind: LoopEventKind) -> list[LoopEvent]:
        """The loop events of one kind, in the order seen."""
        return [item for item in self.loop_events if item.kind == kind]
