"""``driftloop spec``: apply dataset specs to the registry and look at what it holds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from driftloop_cli.commands._common import (
    EXIT_INVALID,
    JsonOption,
    RegistryUrlOption,
    TokenOption,
    fail,
    print_json,
    registry,
)
from driftloop_cli.render import NONE, fields, short_digest, table, when
from driftloop_spec import SpecError, parse_spec

__all__ = ["spec_app"]

spec_app = typer.Typer(help="Dataset specs in the registry.", no_args_is_help=True)


@spec_app.command("apply")
def apply(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A dataset spec (YAML).", show_default=False)],
    as_json: JsonOption = False,
    registry_url: RegistryUrlOption = None,
    token: TokenOption = None,
) -> None:
    """Check a spec file here, then apply it: a changed spec becomes the dataset's next version.

    Applying the same spec again changes nothing. Needs an approver's token.
    """
    text = read_spec(file)
    with registry(ctx, registry_url, token) as client:
        applied = client.apply_spec(text, source=str(file))
    if as_json:
        print_json(applied)
    elif applied.get("created"):
        typer.echo(f"applied {applied['name']} as version {applied['version']}")
    else:
        typer.echo(f"unchanged: {applied['name']} is identical to version {applied['version']}")


@spec_app.command("list")
def list_specs(
    ctx: typer.Context,
    as_json: JsonOption = False,
    registry_url: RegistryUrlOption = None,
    token: TokenOption = None,
) -> None:
    """Every dataset with its newest spec version, digest and when it was applied."""
    with registry(ctx, registry_url, token) as client:
        datasets = client.specs()
    if as_json:
        print_json(datasets)
    elif not datasets:
        typer.echo("no specs yet (apply one with `driftloop spec apply FILE`)")
    else:
        rows = [
            [d["name"], str(d["version"]), short_digest(d.get("digest")), when(d.get("applied_at"))]
            for d in datasets
        ]
        typer.echo(table(["dataset", "version", "digest", "applied"], rows))


@spec_app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The dataset.", show_default=False)],
    version: Annotated[
        int | None, typer.Option("--version", min=1, help="A version; the newest if not given.")
    ] = None,
    as_json: JsonOption = False,
    registry_url: RegistryUrlOption = None,
    token: TokenOption = None,
) -> None:
    """A version of a dataset's spec: its digest, who applied it and when, and the document."""
    with registry(ctx, registry_url, token) as client:
        record = client.spec(name, version)
    if as_json:
        print_json(record)
        return
    typer.echo(fields(_summary(record)))
    typer.echo("")
    typer.echo(yaml.safe_dump(record.get("document"), sort_keys=False, allow_unicode=True))


def read_spec(file: Path) -> str:
    """The text of spec ``file``, validated here; a broken spec ends the command (exit 2)."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"{file}: cannot read the file: {error}", EXIT_INVALID)
    try:
        parse_spec(text, source=str(file))  # what is checked is exactly what is sent
    except SpecError as error:
        fail(str(error), EXIT_INVALID)
    return text


def _summary(record: dict[str, Any]) -> list[tuple[str, str]]:
    applied = when(record.get("applied_at"))
    by = record.get("applied_by")
    return [
        ("dataset", str(record.get("name", NONE))),
        ("version", str(record.get("version", NONE))),
        ("digest", str(record.get("digest", NONE))),
        ("applied", f"{applied} by {by}" if by else applied),
    ]
