"""The HTTP API: the raw events of the Kafka topics for systems without a Kafka client.

An event the API accepts is written to its raw topic (``driftloop.data.v1`` or
``driftloop.outcomes.v1``), keyed like an upstream publisher would, and from there takes the
same path as every other event; the answer says, event by event, what was accepted, what was
rejected and why (rejections are answered, not dead-lettered) and what was a duplicate.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, FastAPI, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from driftloop_ingestion.config import IngestionSettings
from driftloop_ingestion.domain import Problem, Verdict
from driftloop_ingestion.lanes import E, Intake, Judgement, Lane, Status
from driftloop_runtime import TRANSIENT_ERRORS, EventPublisher, Outgoing

__all__ = ["EventResult", "IntakeAnswer", "install_api"]


class EventResult(BaseModel):
    """What became of one event of a request."""

    index: int = Field(description="Position of the event in the request's array, from 0.")
    event_id: str | None = Field(description="The event's event_id, when it had a usable one.")
    status: Status = Field(description="accepted, rejected or duplicate (dropped, not resent).")
    reasons: list[str] = Field(default_factory=list, description="Why it was rejected.")
    warnings: list[str] = Field(
        default_factory=list, description="Fields the spec does not declare (left out)."
    )


class IntakeAnswer(BaseModel):
    """The answer to a batch of events: counts, then one result per event, in order."""

    accepted: int
    rejected: int
    duplicates: int
    results: list[EventResult]


Events = Annotated[
    list[Any],
    Body(description="A JSON array of events, each as it would be published to the topic."),
]


async def authorized(request: Request) -> None:
    """Admit the request when no token is configured, or when it carries that bearer token."""
    settings: IngestionSettings = request.app.state.settings
    if settings.ingestion_token is None:
        return
    scheme, _, given = (request.headers.get("authorization") or "").partition(" ")
    expected = settings.ingestion_token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), expected):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or unknown bearer token (Authorization header)",
            headers={"WWW-Authenticate": "Bearer"},
        )


router = APIRouter(prefix="/v1", dependencies=[Depends(authorized)])


@router.post("/events", response_model=IntakeAnswer, tags=["ingest"])
async def post_events(request: Request, events: Events) -> IntakeAnswer:
    """Ingest data events (what ``driftloop.data.v1`` carries)."""
    intake: Intake = request.app.state.intake
    return await ingest(request, intake.data, events)


@router.post("/outcomes", response_model=IntakeAnswer, tags=["ingest"])
async def post_outcomes(request: Request, events: Events) -> IntakeAnswer:
    """Ingest outcome events (what ``driftloop.outcomes.v1`` carries)."""
    intake: Intake = request.app.state.intake
    return await ingest(request, intake.outcomes, events)


async def ingest(request: Request, lane: Lane[E], items: list[Any]) -> IntakeAnswer:
    """Judge every item, write the accepted ones to the lane's raw topic, answer for each."""
    settings: IngestionSettings = request.app.state.settings
    if len(items) > settings.ingestion_http_max_batch:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"{len(items)} events; at most {settings.ingestion_http_max_batch} per request",
        )
    taken: set[str] = set()
    judged = [admit(lane, item, taken) for item in items]
    forward = [outgoing for _, outgoing in judged if outgoing is not None]
    await _forward(request.app.state.publisher, forward)
    for event_id in taken:
        lane.forwarded.first_time(event_id)
    for judgement, _ in judged:
        lane.count_http(judgement)
    return _answer(items, [judgement for judgement, _ in judged])


def admit(lane: Lane[E], item: Any, taken: set[str]) -> tuple[Judgement, Outgoing | None]:
    """Judge one item of a request; what to write to the raw topic if it is accepted."""
    try:
        event = lane.contract.model_validate_json(json.dumps(item))
    except ValidationError as error:
        return Judgement("rejected", Verdict(_contract_problems(error))), None
    event_id = event.event_id
    duplicate = event_id in taken or event_id in lane.seen or event_id in lane.forwarded
    size = len(event.model_dump_json().encode())  # what the raw topic will carry
    judgement = lane.judge(event, size, duplicate=duplicate)
    if judgement.status != "accepted":
        return judgement, None
    taken.add(event_id)
    return judgement, Outgoing(lane.topic, lane.key(event), event)


async def _forward(publisher: EventPublisher, outgoing: list[Outgoing]) -> None:
    if not outgoing:
        return
    try:
        await publisher.publish(outgoing)
    except TRANSIENT_ERRORS as error:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"could not write to Kafka ({type(error).__name__}); send the request again, "
            "the same event ids are safe to resend",
        ) from error


def _contract_problems(error: ValidationError) -> tuple[Problem, ...]:
    return tuple(
        Problem("contract", ".".join(map(str, e["loc"])) or "event", e["msg"])
        for e in error.errors(include_url=False)
    )


def _answer(items: list[Any], judgements: list[Judgement]) -> IntakeAnswer:
    results = [
        EventResult(
            index=index,
            event_id=_event_id(item),
            status=judgement.status,
            reasons=[str(problem) for problem in judgement.verdict.problems],
            warnings=list(judgement.verdict.warnings),
        )
        for index, (item, judgement) in enumerate(zip(items, judgements, strict=True))
    ]
    statuses = [result.status for result in results]
    return IntakeAnswer(
        accepted=statuses.count("accepted"),
        rejected=statuses.count("rejected"),
        duplicates=statuses.count("duplicate"),
        results=results,
    )


def _event_id(item: Any) -> str | None:
    event_id = item.get("event_id") if isinstance(item, dict) else None
    return event_id[:128] if isinstance(event_id, str) else None


def _body_limit(
    limit: int,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    async def refuse_large_bodies(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            detail = f"request body of {length} bytes; at most {limit}"
            return JSONResponse({"detail": detail}, status_code=413)
        return await call_next(request)

    return refuse_large_bodies


def install_api(app: FastAPI, settings: IngestionSettings) -> None:
    """Mount the /v1 routes, the body limit, the stats and a health probe on ``app``."""
    app.state.settings = settings
    app.include_router(router)
    app.middleware("http")(_body_limit(settings.ingestion_http_max_body_bytes))

    @app.get("/v1/stats", tags=["stats"])
    async def stats(request: Request) -> dict[str, Any]:
        """Counters since the process started, and each dataset's spec version."""
        intake: Intake = request.app.state.intake
        return intake.stats()

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "time": datetime.now().astimezone().isoformat()}
