"""``driftloop train``: ask the trainer for a new candidate model of a dataset."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

import typer
from pydantic import ValidationError

from driftloop_cli.commands._common import (
    EXIT_INVALID,
    fail,
    kafka_settings,
    on_kafka,
    print_json,
)
from driftloop_cli.deadletters import parse_since
from driftloop_contracts import TRAIN_REQUESTS_TOPIC, TrainRequested
from driftloop_runtime import KafkaEventPublisher, Outgoing, RuntimeSettings

__all__ = ["train"]


class Reason(StrEnum):
    """Why training is requested (``TrainRequested.reason``)."""

    manual = "manual"
    schedule = "schedule"
    drift = "drift"
    bootstrap = "bootstrap"


def train(
    dataset: Annotated[str, typer.Argument(help="The dataset to train.", show_default=False)],
    reason: Annotated[
        Reason,
        typer.Option(
            "--reason",
            help="Why: a manual request starts at once; the others wait out the spec's "
            "training cooldown like the trainer's own triggers.",
        ),
    ] = Reason.manual,
    window_start: Annotated[
        str | None,
        typer.Option(
            "--window-start",
            help="Train on rows from this time on (ISO 8601, or a duration back from now such "
            "as 6h): at least the spec's min_labelled_rows, the most recent if fewer follow. "
            "Default: the spec's whole training window.",
            show_default=False,
        ),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option("--by", help="Who asks (default: $USER).", show_default=False),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the request as JSON.")] = False,
) -> None:
    """Publish a train request for DATASET on driftloop.train-requests.v1 (DRIFTLOOP_KAFKA_*
    or .driftloop/local.env).

    The trainer trains one candidate per dataset at a time: a request that comes while a run
    is training is served by that run. The result comes as a `training completed` event, which
    the registry registers (see `driftloop runs list DATASET`).
    """
    request = _request(dataset, reason, window_start, by)
    settings = kafka_settings()
    on_kafka(settings, _publish(settings, request))
    if as_json:
        print_json(request.model_dump(mode="json"))
        return
    since = f" from {request.window_start.isoformat()}" if request.window_start else ""
    typer.echo(
        f"requested training of {request.dataset}{since} ({request.reason}, by "
        f"{request.requested_by}): event {request.event_id}"
    )


def _request(
    dataset: str, reason: Reason, window_start: str | None, by: str | None
) -> TrainRequested:
    now = datetime.now(UTC)
    requester = by or os.environ.get("USER")
    if not requester:
        fail("who is asking? pass --by NAME (or set $USER)", EXIT_INVALID)
    try:
        start = parse_since(window_start, now) if window_start else None
    except ValueError as error:
        fail(f"--window-start: {error}", EXIT_INVALID)
    try:
        return TrainRequested(
            event_id=f"train-request:{uuid.uuid4()}",
            occurred_at=now,
            producer="cli",
            dataset=dataset,
            reason=reason.value,
            window_start=start,
            requested_by=requester,
        )
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        fail(f"invalid train request: {problems}", EXIT_INVALID)


async def _publish(settings: RuntimeSettings, request: TrainRequested) -> None:
    publisher = KafkaEventPublisher(settings, client_id="driftloop-cli")
    await publisher.start()
    try:
        await publisher.publish([Outgoing(TRAIN_REQUESTS_TOPIC, request.dataset, request)])
    finally:
        await publisher.stop()
