"""``driftloop models``: registered models, their versions, and moving their serving aliases."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from driftloop_cli.commands._common import (
    AliasOption,
    JsonOption,
    RegistryUrlOption,
    ServingAlias,
    TokenOption,
    print_json,
    registry,
)
from driftloop_cli.render import NONE, fields, metrics, number, table, when

__all__ = ["models_app"]

models_app = typer.Typer(help="Registered models, versions and aliases.", no_args_is_help=True)

NameArgument = Annotated[str, typer.Argument(help="The registered model.", show_default=False)]
VersionArgument = Annotated[int, typer.Argument(min=1, help="The version.", show_default=False)]
ReasonOption = Annotated[
    str, typer.Option("--reason", help="Why, for the audit trail.", show_default=False)
]
KEY_METRICS = 3
"""How many metrics a version list shows per version (``models show`` has them all)."""


@models_app.command("list")
def list_models(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(help="A model: list its versions.", show_default=False)
    ] = None,
    as_json: JsonOption = False,
    registry_url: RegistryUrlOption = None,
    token: TokenOption = None,
) -> None:
    """Every model with its champion and shadow (version and revision); with NAME, that model's
    versions."""
    with registry(ctx, registry_url, token) as client:
        found = client.versions(name) if name else client.models()
    if as_json:
        print_json(found)
    elif not found:
        typer.echo("no models yet (the registry registers one when a training run succeeds)")
    elif name:
        typer.echo(table(["version", "stage", "metrics", "run", "created"], _versions(found)))
    else:
        typer.echo(table(["model", "dataset", "champion", "shadow", "created"], _models(found)))


@models_app.command("show")
def show(
    ctx: typer.Context,
    name: NameArgument,
    version: VersionArgument,
    as_json: JsonOption = False,
    registry_url: RegistryUrlOption = None,
    token: TokenOption = None,
) -> None:
    """A model version: metrics, the registry's decision, and its lineage."""
    with registry(ctx, registry_url, token) as client:
        record = client.version(name, version)
    if as_json:
        print_json(record)
        return
    typer.echo(fields(_about(record)))
    _section("metrics", [(k, number(v)) for k, v in (record.get("metrics") or {}).items()])
    _section("lineage", _lineage(record["lineage"]) if record.get("lineage") else [])


@models_app.command("promote")
def promote(
    ctx: typer.Context,
    name: NameArgument,
    version: VersionArgument,
    reason: ReasonOption,
    alias: AliasOption = ServingAlias.champion,
    expected_revision: Annotated[
        int | None,
        typer.Option(
            "--expected-revision",
            min=0,
            help="Refuse (409) unless the alias is still at this revision, as `models list` "
            "shows it (0: never set).",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
    registry_url: RegistryUrlOption = None,
    token: TokenOption = None,
) -> None:
    """Give VERSION the champion (or shadow) alias. Needs an approver's token."""
    with registry(ctx, registry_url, token) as client:
        event = client.promote(
            name, version, alias=alias.value, reason=reason, expected_revision=expected_revision
        )
    if as_json:
        print_json(event)
    else:
        typer.echo(f"promoted {name} version {version} to {alias.value}{_was(event)}")


@models_app.command("rollback")
def rollback(
    ctx: typer.Context,
    name: NameArgument,
    reason: ReasonOption,
    alias: AliasOption = ServingAlias.champion,
    as_json: JsonOption = False,
    registry_url: RegistryUrlOption = None,
    token: TokenOption = None,
) -> None:
    """Give the alias back to the version that held it before. Needs an approver's token."""
    with registry(ctx, registry_url, token) as client:
        event = client.rollback(name, alias=alias.value, reason=reason)
    if as_json:
        print_json(event)
    else:
        target = event.get("version", NONE)
        typer.echo(f"rolled back the {alias.value} of {name} to version {target}{_was(event)}")


@models_app.command("retire")
def retire(
    ctx: typer.Context,
    name: NameArgument,
    version: VersionArgument,
    reason: ReasonOption,
    as_json: JsonOption = False,
    registry_url: RegistryUrlOption = None,
    token: TokenOption = None,
) -> None:
    """End a version's shadow run (it is archived). Needs an approver's token."""
    with registry(ctx, registry_url, token) as client:
        event = client.retire(name, version, reason=reason)
    if as_json:
        print_json(event)
    else:
        typer.echo(f"retired the shadow {name} version {version}")


def _models(found: list[dict[str, Any]]) -> list[list[str]]:
    def held(model: dict[str, Any], alias: str) -> str:
        pointer = (model.get("aliases") or {}).get(alias)
        return f"v{pointer['version']} (rev {pointer['revision']})" if pointer else NONE

    return [
        [
            m["name"],
            str(m.get("dataset", NONE)),
            held(m, "champion"),
            held(m, "shadow"),
            when(m.get("created_at")),
        ]
        for m in found
    ]


def _versions(found: list[dict[str, Any]]) -> list[list[str]]:
    return [
        [
            str(v["version"]),
            str(v.get("stage", NONE)),
            metrics(v.get("metrics"), KEY_METRICS),
            str(v.get("run_id", NONE)),
            when(v.get("created_at")),
        ]
        for v in found
    ]


def _about(record: dict[str, Any]) -> list[tuple[str, str]]:
    decision = record.get("decision") or {}
    artifact = record.get("artifact") or {}
    return [
        ("model", str(record.get("name", NONE))),
        ("version", str(record.get("version", NONE))),
        ("stage", str(record.get("stage", NONE))),
        ("dataset", str(record.get("dataset", NONE))),
        ("created", when(record.get("created_at"))),
        ("artifact", f"{artifact.get('format', NONE)} sha256:{artifact.get('sha256', NONE)}"),
        ("decision", f"{decision.get('action', NONE)}: {decision.get('reason', NONE)}"),
        ("evidence", metrics(decision.get("evidence"))),
    ]


def _lineage(lineage: dict[str, Any]) -> list[tuple[str, str]]:
    window = lineage.get("data_window") or {}
    span = (
        f"{when(window.get('first_event_time'))} .. {when(window.get('last_event_time'))}"
        f" ({window.get('row_count', '?')} rows)"
        if window
        else NONE
    )
    parent = lineage.get("parent_version")
    evaluation = lineage.get("evaluation") or {}
    return [
        ("spec version", str(lineage.get("spec_version", NONE))),
        ("run", str(lineage.get("run_id", NONE))),
        ("data window", span),
        ("parent version", str(parent) if parent is not None else "none (first model)"),
        ("parent metrics", metrics(evaluation.get("champion_metrics"))),
        ("trigger event", str(lineage.get("trigger_event_id") or NONE)),
    ]


def _section(title: str, pairs: list[tuple[str, str]]) -> None:
    typer.echo(title if pairs else f"{title}  {NONE}")
    if pairs:
        typer.echo(fields(pairs, indent=2))


def _was(event: dict[str, Any]) -> str:
    previous = event.get("previous_version")
    return f" (was version {previous})" if previous is not None else ""
