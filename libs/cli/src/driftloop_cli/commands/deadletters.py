"""``driftloop deadletters``: what was rejected and why, and sending it again once fixed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, TypeVar

import typer

from driftloop_cli import deadletters as dl
from driftloop_cli.commands._common import (
    EXIT_INVALID,
    fail,
    kafka_settings,
    on_kafka,
    print_json,
)
from driftloop_cli.render import table, when
from driftloop_cli.settings import CliKafkaSettings
from driftloop_contracts import DeadLettered

__all__ = ["deadletters_app"]

deadletters_app = typer.Typer(
    help="Dead letters: records a service could not process, with the reason.",
    no_args_is_help=True,
)

T = TypeVar("T")

SourceTopicOption = Annotated[
    str | None,
    typer.Option(
        "--source-topic",
        help="Only dead letters read from this topic, e.g. driftloop.data.v1.",
        show_default=False,
    ),
]
JsonOutput = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@deadletters_app.command("list")
def list_letters(source_topic: SourceTopicOption = None, as_json: JsonOutput = False) -> None:
    """Dead letters grouped by cause, with counts, first and last seen, and sample ids.

    A cause is the source topic, the error type and the reason's first clause with its values
    masked (numbers as N, quoted text as "…"); the largest group comes first. Reads
    driftloop.deadletter.v1 with the DRIFTLOOP_KAFKA_* settings (or .driftloop/local.env).
    """
    letters = dl.select_letters(_read(kafka_settings()), source_topic=source_topic)
    groups = dl.group_letters(letters)
    if as_json:
        print_json([group.as_json() for group in groups])
        return
    if not groups:
        typer.echo("no dead letters" + (f" from {source_topic}" if source_topic else ""))
        return
    headers = ["count", "source topic", "error", "first seen", "last seen", "samples", "reason"]
    typer.echo(table(headers, [_group_row(group) for group in groups]))
    typer.echo(f"\n{len(letters)} dead letters in {len(groups)} groups")


def _group_row(group: dl.LetterGroup) -> list[str]:
    return [
        str(group.count),
        group.source_topic,
        group.error_type,
        when(group.first_seen.isoformat()),
        when(group.last_seen.isoformat()),
        " ".join(group.samples),
        group.pattern,
    ]


@deadletters_app.command("replay")
def replay_letters(
    reason_contains: Annotated[
        str | None,
        typer.Option(
            "--reason-contains",
            help="Only dead letters whose reason contains this text (any case).",
            show_default=False,
        ),
    ] = None,
    source_topic: SourceTopicOption = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Only dead letters from this time on: ISO 8601 (2026-11-22T07:00:00Z) or a "
            "duration back from now (30m, 2h, 7d).",
            show_default=False,
        ),
    ] = None,
    everything: Annotated[
        bool, typer.Option("--all", help="Replay every dead letter (no filter).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be replayed; send nothing.")
    ] = False,
    as_json: JsonOutput = False,
) -> None:
    """Send the selected dead letters' original records to their source topic again.

    The original bytes go with their original key, for the service to take another look once
    the cause is fixed (a spec applied, a bug deployed). Each original is sent once; a replayed
    event that was accepted before is dropped as a duplicate by its consumer, so replaying
    twice does not count twice.
    """
    if not (reason_contains or source_topic or since or everything):
        fail(
            "choose what to replay: --reason-contains, --source-topic, --since, or --all",
            EXIT_INVALID,
        )
    start = _since(since) if since else None
    settings = kafka_settings()
    letters = dl.select_letters(
        _read(settings), reason_contains=reason_contains, source_topic=source_topic, since=start
    )
    plan = dl.plan_replay(letters)
    sent = 0 if dry_run else on_kafka(settings, dl.replay(settings, plan.send))
    if as_json:
        print_json(_replay_json(plan, sent, dry_run))
    else:
        _print_replay(plan, sent, dry_run, selected=len(letters))


def _print_replay(plan: dl.ReplayPlan, sent: int, dry_run: bool, *, selected: int) -> None:
    if not selected:
        typer.echo("no dead letters match")
        return
    if dry_run:
        rows = [_letter_row(letter) for letter in plan.send]
        typer.echo(table(["dead lettered", "source", "key", "event", "reason"], rows))
        typer.echo(f"\nwould replay {len(plan.send)} of {selected} selected dead letters")
    else:
        topics = ", ".join(f"{n} to {t}" for t, n in sorted(_per_topic(plan.send).items()))
        typer.echo(f"replayed {sent} of {selected} selected dead letters ({topics or 'none'})")
    if plan.repeats:
        typer.echo(f"{plan.repeats} repeated the same original and were sent once")
    if plan.truncated:
        typer.echo(f"{len(plan.truncated)} skipped: their original was truncated")


def _letter_row(letter: DeadLettered) -> list[str]:
    position = f"{letter.source_topic}@{letter.source_partition}:{letter.source_offset}"
    reason = letter.reason if len(letter.reason) <= 80 else letter.reason[:79] + "…"
    return [
        when(letter.occurred_at.isoformat()),
        position,
        letter.original_key or "-",
        dl.sample_id(letter),
        reason,
    ]


def _replay_json(plan: dl.ReplayPlan, sent: int, dry_run: bool) -> dict[str, object]:
    return {
        "dry_run": dry_run,
        "replayed": sent,
        "selected": len(plan.send) + len(plan.truncated) + plan.repeats,
        "by_source_topic": _per_topic(plan.send),
        "repeats": plan.repeats,
        "skipped_truncated": [letter.event_id for letter in plan.truncated],
        "dead_letters": [letter.event_id for letter in plan.send],
    }


def _per_topic(letters: Sequence[DeadLettered]) -> dict[str, int]:
    return dict(Counter(letter.source_topic for letter in letters))


def _since(text: str) -> datetime:
    try:
        return dl.parse_since(text, datetime.now(UTC))
    except ValueError as error:
        fail(f"--since: {error}", EXIT_INVALID)


def _read(settings: CliKafkaSettings) -> list[DeadLettered]:
    return on_kafka(settings, dl.read_dead_letters(settings))
