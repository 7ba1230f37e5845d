"""``driftloop lineage``: what became of one data event, and why the model that scored it served."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from driftloop_cli import lineage as ln
from driftloop_cli.commands._common import (
    JsonOption,
    RegistryUrlOption,
    TokenOption,
    fail,
    kafka_settings,
    on_kafka,
    print_json,
    registry,
)
from driftloop_cli.registry_client import RegistryClient, RegistryClientError
from driftloop_cli.render import NONE, fields, metrics, short_digest, when
from driftloop_cli.settings import CliKafkaSettings

__all__ = ["lineage"]


def lineage(
    ctx: typer.Context,
    event_id: Annotated[
        str, typer.Argument(help="event_id of the data event.", show_default=False)
    ],
    as_json: JsonOption = False,
    registry_url: RegistryUrlOption = None,
    token: TokenOption = None,
) -> None:
    """A data event's predictions (champion and shadow), where each was read, the feature
    vector it was computed from, the model version that made it, the run that trained that
    version on which data window, and who promoted it and why.

    Reads driftloop.predictions.v1 (DRIFTLOOP_KAFKA_* or .driftloop/local.env); asks the
    registry for the versions, runs and alias history.
    """
    settings = kafka_settings()
    predictions = on_kafka(settings, _predictions(settings, event_id))
    if not predictions:
        fail(
            f"no prediction of data event {event_id} on the predictions topic: it was not "
            "scored yet, had no model to score it, or never passed ingestion (see `driftloop "
            "deadletters list`)"
        )
    found = ln.Lineage(event_id, predictions)
    with registry(ctx, registry_url, token) as client:
        for key in sorted(
            {(p.prediction.event.model_name, p.prediction.event.model_version) for p in predictions}
        ):
            found.models[key] = _model(client, *key)
    if as_json:
        print_json(found.as_json())
    else:
        typer.echo(_render(found))


async def _predictions(settings: CliKafkaSettings, event_id: str) -> list[ln.PredictionLineage]:
    found = await ln.find_predictions(settings, event_id)
    vectors = await asyncio.gather(*(ln.feature_vector(settings, p.event) for p in found))
    return [ln.PredictionLineage(p, v) for p, v in zip(found, vectors, strict=True)]


def _model(client: RegistryClient, name: str, version: int) -> ln.ModelLineage:
    def run(run_id: str) -> dict[str, Any] | None:
        try:
            return client.run(run_id)
        except RegistryClientError:
            return None  # the version is known; its run record is missing: say so, go on

    return ln.version_lineage(
        name, version, version_record=client.version, run=run, history=client.history
    )


def _render(found: ln.Lineage) -> str:
    blocks = [f"data event {found.event_id}"]
    blocks += [_prediction_block(p) for p in found.predictions]
    blocks += [_model_block(m) for _, m in sorted(found.models.items())]
    return "\n\n".join(blocks)


def _prediction_block(item: ln.PredictionLineage) -> str:
    data = item.as_json()
    event, vector = data["prediction"], data["feature_vector"] or {}
    role = "shadow" if event["shadow"] else "champion"
    pairs = [
        ("prediction", f"{event['prediction']} {metrics(event.get('scores'))}"),
        ("by", f"{event['model_name']} v{event['model_version']} ({role})"),
        ("event id", event["event_id"]),
        ("at", _where(data["at"])),
        ("produced", when(event["produced_at"])),
        ("trace", event.get("trace_id") or NONE),
        ("features", _where(vector.get("at"))),
        ("hash", short_digest(vector.get("features_hash"), 16)),
        ("spec", f"v{event['spec_version']}"),
        ("validated", _where(vector.get("validated_event_at"))),
    ]
    return fields(pairs)


def _model_block(model: ln.ModelLineage) -> str:
    data = model.as_json()
    window = data["data_window"] or {}
    pairs = [
        ("model", f"{data['name']} v{data['version']}"),
        ("artifact", short_digest((data["artifact"] or {}).get("sha256"), 16)),
        ("run", str(data["run_id"] or NONE)),
        ("triggered by", str(data["trigger_event_id"] or NONE)),
        (
            "trained on",
            f"{window.get('row_count', NONE)} rows, {when(window.get('first_event_time'))} "
            f"to {when(window.get('last_event_time'))}, spec v{data['spec_version']}",
        ),
        ("holdout", metrics(data["metrics"])),
    ]
    pairs += [
        (
            _MOVES[move["kind"]],
            f"{move['alias']} by {move['actor']} at {when(move['at'])}: {move['reason']}",
        )
        for move in data["promotions"]
    ]
    return fields(pairs)


_MOVES = {"promote": "promoted", "rollback": "rolled back"}


def _where(position: dict[str, Any] | None) -> str:
    if not position:
        return NONE
    return f"{position['topic']} [{position['partition']}] @ {position['offset']}"
