"""``driftloop demo``: the closed loop on this machine, from a synthetic upstream system to a
downstream consumer, with live progress, a summary and a plot."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from driftloop_cli.commands._common import EXIT_INVALID, fail
from driftloop_cli.demo import (
    DEFAULT_HOME,
    DemoError,
    DemoOptions,
    DemoOptionsError,
    interrupt_on_sigterm,
    run_demo,
)
from driftloop_cli.demo.report import report
from driftloop_cli.demo.summary import render

__all__ = ["demo"]

_DEFAULTS = DemoOptions()


def demo(
    events: Annotated[
        int, typer.Option("--events", help="Live transactions to play.")
    ] = _DEFAULTS.events,
    drift_at: Annotated[
        int | None,
        typer.Option(
            "--drift-at",
            help="Live transaction where the fraud pattern changes (default: half of --events).",
            show_default=False,
        ),
    ] = None,
    no_drift: Annotated[
        bool, typer.Option("--no-drift", help="A stationary stream: the pattern never changes.")
    ] = False,
    rate: Annotated[
        float, typer.Option("--rate", help="Live transactions published per second.")
    ] = _DEFAULTS.rate,
    label_delay: Annotated[
        int,
        typer.Option("--label-delay", help="Outcomes are published this many transactions later."),
    ] = _DEFAULTS.label_delay,
    history: Annotated[
        int,
        typer.Option("--history", help="Labelled transactions published first (v1's data)."),
    ] = _DEFAULTS.history,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the generator.")] = _DEFAULTS.seed,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Where the PNG goes (default: HOME/demo.png).")
    ] = None,
    summary: Annotated[
        Path | None,
        typer.Option("--summary", help="Where the JSON summary goes (default: HOME/summary.json)."),
    ] = None,
    home: Annotated[
        Path, typer.Option("--home", help="The demo's own local stack home.")
    ] = DEFAULT_HOME,
    spec: Annotated[Path, typer.Option("--spec", help="The dataset spec to apply.")] = Path(
        "specs/fraud.yaml"
    ),
) -> None:
    """Start a local stack of its own, apply the fraud spec, play card transactions whose fraud
    pattern changes part-way (labels arrive late), follow the predictions and the loop (drift,
    training, promotion), then print a summary, write a plot and stop everything it started."""
    options = DemoOptions(
        events=events,
        drift_at=drift_at,
        no_drift=no_drift,
        rate=rate,
        label_delay=label_delay,
        history=history,
        seed=seed,
        plot=plot or home / "demo.png",
        summary=summary or home / "summary.json",
        home=home,
        spec=spec,
    )
    try:
        options.validate()
    except DemoOptionsError as error:
        fail(f"driftloop demo: {error}", EXIT_INVALID)
    interrupt_on_sigterm()
    try:
        result = run_demo(options)
    except DemoError as error:
        fail(f"driftloop demo: the loop did not complete: {error}")
    except KeyboardInterrupt:
        fail("driftloop demo: interrupted; the stack it started is stopped", 130)
    done = report(result)
    typer.echo("")
    for line in render(done.summary):
        typer.echo(line)
    typer.echo(f"plot              {options.plot}")
    typer.echo(f"summary           {options.summary}")
    if not result.complete:
        missing = done.summary.events - done.summary.predicted
        fail(
            f"driftloop demo: {missing:,} transactions got no prediction within "
            f"{options.tail_timeout_s:.0f} s after the last one; see {home / 'logs'}"
        )
