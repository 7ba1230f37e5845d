"""The synchronous predict API's domain: a data event in, the champion's prediction out.

The event is validated against its dataset's spec, its features are computed as the feature
service would for it arriving now (see ``online``), and the champion predicts them. Nothing is
published and nothing is kept: the event is not ingested.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from driftloop_contracts import DataEvent, PredictionMade
from driftloop_features import DataRow
from driftloop_modeling import feature_hashes, predict
from driftloop_runtime import SpecCatalog
from driftloop_scorer.online import RecentEvents
from driftloop_scorer.scoring import PRODUCER, prediction_id
from driftloop_scorer.serving import Serving
from driftloop_spec.validation import validate_data_event

__all__ = ["PredictRefusedError", "predict_event"]


class PredictRefusedError(Exception):
    """The request cannot be answered: an HTTP status and the reasons."""

    def __init__(self, status: int, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.status = status
        self.reasons = reasons


def predict_event(
    event: DataEvent,
    specs: SpecCatalog,
    serving: Mapping[str, Serving],
    recent: RecentEvents,
    *,
    produced_at: datetime,
    trace_id: str | None,
) -> PredictionMade:
    """The champion's prediction for ``event``, shaped like a published one (without the
    feature vector's topic, partition and offset: there is none)."""
    held = specs.get(event.dataset)
    if held is None:
        raise PredictRefusedError(404, [f"no spec is applied for dataset {event.dataset!r}"])
    spec_version, spec = held
    if problems := validate_data_event(spec, event).problems:
        raise PredictRefusedError(422, [str(problem) for problem in problems])
    champion = serving.get(event.dataset, Serving()).champion
    if champion is None:
        raise PredictRefusedError(409, [f"no champion serves dataset {event.dataset!r} yet"])
    columns = list(spec.feature_columns())
    if champion.feature_names != columns:
        reason = f"the champion was checked against spec version {champion.spec_version}"
        raise PredictRefusedError(409, [f"{reason}, whose features differ from the current spec's"])
    if (unready := recent.unready(spec)) is not None:
        raise PredictRefusedError(503, [unready])
    row = DataRow(event.event_id, event.entity_id, event.occurred_at, event.fields)
    features = recent.features(spec, row)
    result = predict(champion.model, features, columns, classes=champion.classes)
    version = champion.version
    return PredictionMade(
        event_id=prediction_id(version.model_name, version.version, event.event_id, False),
        occurred_at=event.occurred_at,
        producer=PRODUCER,
        causation_id=event.event_id,
        subject_event_id=event.event_id,
        dataset=event.dataset,
        entity_id=event.entity_id,
        model_name=version.model_name,
        model_version=version.version,
        prediction=result.predicted[0],
        scores=result.score_maps()[0],
        produced_at=produced_at,
        features_hash=feature_hashes(columns, features)[0],
        spec_version=spec_version,
        trace_id=trace_id,
    )
