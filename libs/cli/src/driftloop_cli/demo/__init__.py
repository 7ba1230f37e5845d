"""``driftloop demo``: the closed loop on the embedded stack, played by a synthetic upstream
system (card transactions whose fraud pattern changes part-way, labels arriving late) and
watched by a downstream consumer of predictions.

``run_demo(DemoOptions(...))`` is the programmatic entry point (the drift-recovery benchmark
builds on it); the ``driftloop demo`` command is a thin shell around it.
"""

from __future__ import annotations

from driftloop_cli.demo.model import (
    DEFAULT_HOME,
    DemoError,
    DemoOptions,
    DemoOptionsError,
    DemoResult,
    LoopEvent,
    LoopEventKind,
    SeenPrediction,
    StackHandle,
    StackSettings,
    StreamEvent,
)
from driftloop_cli.demo.runner import interrupt_on_sigterm, run_demo

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
    "interrupt_on_sigterm",
    "run_demo",
]
