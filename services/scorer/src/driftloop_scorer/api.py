"""The HTTP API: health, counters, what serves, and the synchronous predict."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from opentelemetry import trace

from driftloop_contracts import DataEvent, PredictionMade
from driftloop_runtime import SpecCatalog
from driftloop_scorer.predicting import PredictRefusedError, predict_event
from driftloop_scorer.scoring import Scorer
from driftloop_scorer.serving import ServingTable

__all__ = ["router"]

router = APIRouter()


@router.get("/healthz", tags=["health"])
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/v1/stats", tags=["health"])
async def stats(request: Request) -> dict[str, Any]:
    """The spec version of each dataset; counts since start, per dataset: vectors scored per
    model version (champion and shadow), vectors left unscored and why, shadow failures, swaps
    and refusals; and the predict API's per-entity history."""
    scorer: Scorer = request.app.state.scorer
    table: ServingTable = request.app.state.table
    specs: SpecCatalog = request.app.state.specs
    return {
        "specs": {dataset: held[0] for dataset in specs.datasets() if (held := specs.get(dataset))},
        "scored": _nested(scorer.scored),
        "shadow_scored": _nested(scorer.shadow_scored),
        "unscored": _nested(scorer.unscored),
        "shadow_failures": dict(scorer.shadow_failures),
        "swaps": dict(table.swaps),
        "refusals": dict(table.refused),
        "predict_state": request.app.state.recent.counts(),
    }


@router.get("/v1/models", tags=["models"])
async def models(request: Request) -> dict[str, dict[str, object]]:
    """Per dataset: the champion and shadow serving (version, artifact digest, the lifecycle
    event, when loaded), swaps, and the versions refused with their reasons."""
    table: ServingTable = request.app.state.table
    return table.describe()


@router.post(
    "/v1/predict",
    tags=["predict"],
    response_model=PredictionMade,
    responses={
        404: {"description": "No spec is applied for the dataset."},
        409: {"description": "No champion serves the dataset (or it predates the spec)."},
        422: {"description": "The event breaks its contract or its spec (every reason)."},
        503: {"description": "The per-entity history is still being read."},
    },
)
async def predict(request: Request, event: DataEvent) -> PredictionMade | JSONResponse:
    """The champion's prediction for a data event, computed now and returned, not published.

    The event is **not ingested**: it is not written to any topic, and the per-entity windows
    are not changed by it. Its windowed features are those the feature service would compute
    for it arriving after the entity's events read so far. ``source_*`` are null (no feature
    vector was consumed); ``causation_id`` and ``subject_event_id`` are the event's id.
    """
    state = request.app.state
    try:
        return predict_event(
            event,
            state.specs,
            state.table.current,
            state.recent,
            produced_at=datetime.now(UTC),
            trace_id=_trace_id(),
        )
    except PredictRefusedError as refused:
        return JSONResponse({"detail": refused.reasons}, status_code=refused.status)


def _trace_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return trace.format_trace_id(context.trace_id) if context.is_valid else None


def _nested(counts: Counter[tuple[str, Any]]) -> dict[str, dict[str, int]]:
    """``{(dataset, key): n}`` as ``{dataset: {str(key): n}}``."""
    nested: dict[str, dict[str, int]] = {}
    for (dataset, key), count in sorted(counts.items()):
        nested.setdefault(dataset, {})[str(key)] = count
    return nested
