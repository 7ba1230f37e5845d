"""The ``driftloop`` command."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from driftloop_cli.commands import (
    deadletters_app,
    demo,
    lineage,
    models_app,
    runs_app,
    spec_app,
    trace,
    train,
)
from driftloop_cli.local import LocalStack
from driftloop_cli.local.stack import StackError
from driftloop_cli.topics import create_topics
from driftloop_contracts.topics import TOPICS
from driftloop_runtime import RuntimeSettings

__all__ = ["app"]

app = typer.Typer(help="driftloop: event-driven MLOps over Kafka.", no_args_is_help=True)
local_app = typer.Typer(help="Run driftloop on this machine, no Docker.", no_args_is_help=True)
topics_app = typer.Typer(help="driftloop's Kafka topics.", no_args_is_help=True)
app.add_typer(local_app, name="local")
app.add_typer(topics_app, name="topics")
app.add_typer(spec_app, name="spec")
app.add_typer(models_app, name="models")
app.add_typer(runs_app, name="runs")
app.add_typer(deadletters_app, name="deadletters")
app.command("lineage")(lineage)
app.command("train")(train)
app.command("trace")(trace)
app.command("demo")(demo)

HomeOption = Annotated[
    Path, typer.Option("--home", help="Where the local stack keeps its state, data and logs.")
]


@local_app.command("up")
def local_up(
    infra_only: Annotated[
        bool, typer.Option("--infra-only", help="Start only the broker and the store.")
    ] = False,
    home: HomeOption = Path(".driftloop"),
) -> None:
    """Start the embedded broker, document store and every installed service."""
    stack = LocalStack(home)
    try:
        env = stack.up(infra_only=infra_only)
    except (StackError, FileNotFoundError) as error:
        typer.echo(f"driftloop local up: {error}", err=True)
        raise typer.Exit(1) from error
    _print_status(stack)
    typer.echo(f"\nSettings written to {stack.env_file}:")
    for name, value in env.items():
        typer.echo(f"  {name}={value}")
    typer.echo(f"Load them with: set -a; . {stack.env_file}; set +a")


@local_app.command("status")
def local_status(home: HomeOption = Path(".driftloop")) -> None:
    """Show each process of the local stack, its port and whether it is alive."""
    stack = LocalStack(home)
    if not stack.processes():
        typer.echo("nothing running (start it with `driftloop local up`)")
        raise typer.Exit(1)
    _print_status(stack)
    if not all(alive for _, alive in stack.status()):
        raise typer.Exit(1)


@local_app.command("down")
def local_down(home: HomeOption = Path(".driftloop")) -> None:
    """Stop every process the local stack started, by its process id."""
    stopped = LocalStack(home).down()
    for info in stopped:
        typer.echo(f"stopped {info.name} (pid {info.pid})")
    if not stopped:
        typer.echo("nothing was running")


@topics_app.command("create")
def topics_create(
    replication: Annotated[int, typer.Option(min=1, help="Replication factor.")] = 1,
) -> None:
    """Create every topic of the registry that does not exist yet.

    Connects with the DRIFTLOOP_KAFKA_* settings (bootstrap servers, SASL/TLS).
    """
    created = asyncio.run(create_topics(RuntimeSettings(), replication=replication))
    for topic in TOPICS:
        state = "created" if topic.name in created else "exists"
        typer.echo(f"{topic.name:40} {topic.partitions:>3} partitions  {state}")


@topics_app.command("list")
def topics_list() -> None:
    """Print the topic registry: name, partitions, key, producers and consumers."""
    for topic in TOPICS:
        typer.echo(
            f"{topic.name:40} {topic.partitions:>3}  key={topic.key:12} "
            f"{','.join(topic.producers)} -> {','.join(topic.consumers)}"
        )


def _print_status(stack: LocalStack) -> None:
    for info, alive in stack.status():
        port = str(info.port) if info.port else "-"
        state = "alive" if alive else "DEAD"
        typer.echo(f"{info.name:12} pid {info.pid:>7}  port {port:>6}  {state:5}  log {info.log}")
