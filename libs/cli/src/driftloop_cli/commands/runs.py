"""``driftloop runs``: the training runs the registry has recorded."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from driftloop_cli.commands._common import (
    JsonOption,
    RegistryUrlOption,
    TokenOption,
    print_json,
    registry,
)
from driftloop_cli.render import NONE, metrics, table, when

__all__ = ["runs_app"]

runs_app = typer.Typer(help="Training runs.", no_args_is_help=True)

KEY_METRICS = 3
"""How many metrics a run row shows (``--json`` has them all)."""


@runs_app.command("list")
def list_runs(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Argument(help="The dataset.", show_default=False)],
    as_json: JsonOption = False,
    registry_url: RegistryUrlOption = None,
    token: TokenOption = None,
) -> None:
    """The training runs of a dataset, newest first: outcome, metrics, rows, when."""
    with registry(ctx, registry_url, token) as client:
        runs = client.runs(dataset)
    if as_json:
        print_json(runs)
    elif not runs:
        typer.echo(f"no training runs of {dataset} yet")
    else:
        headers = ["run", "status", "model", "spec", "rows", "result", "finished"]
        typer.echo(table(headers, [_row(run) for run in runs]))


def _row(run: dict[str, Any]) -> list[str]:
    window = run.get("data_window") or {}
    result = (
        str(run.get("failure_reason") or NONE)
        if run.get("status") == "failed"
        else metrics(run.get("metrics"), KEY_METRICS)
    )
    return [
        str(run.get("run_id", NONE)),
        str(run.get("status", NONE)),
        str(run.get("model_name", NONE)),
        str(run.get("spec_version", NONE)),
        str(window.get("row_count", NONE)),
        result,
        when(run.get("finished_at")),
    ]
