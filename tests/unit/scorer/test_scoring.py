"""Scoring a batch: one prediction per vector and model, lineage, ids, what is left unscored."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LinearRegression

from driftloop_contracts import PREDICTIONS_TOPIC, PredictionMade
from driftloop_modeling import feature_hashes
from driftloop_scorer.scoring import Scorer, by_dataset, prediction_id
from driftloop_scorer.serving import Serving, ServingTable

from .helpers import COLUMNS, T0, TRACE, fitted, served, vector

pytestmark = pytest.mark.unit


def scorer_of(table: ServingTable) -> Scorer:
    return Scorer(lambda: table.current, warmup_rows=8, no_model_log_s=60, clock=lambda: T0)


def table_with(*models: Any) -> ServingTable:
    table = ServingTable()
    for model in models:
        table.install(model)
    return table


def predictions(outputs: Any) -> list[PredictionMade]:
    return [o.event for o in outputs]


def test_each_vector_gets_the_champions_prediction_with_its_lineage() -> None:
    batch = [vector(n) for n in range(5)]
    result = scorer_of(table_with(served(3))).score(batch)
    made = predictions(result.outputs)
    matrix = np.array([item.event.values for item in batch])
    expected = fitted(3).predict_proba(matrix)[:, 1]
    assert [p.subject_event_id for p in made] == [f"txn-{n}" for n in range(5)]
    assert [p.scores["true"] for p in made if p.scores] == pytest.approx(expected.tolist())
    assert [p.features_hash for p in made] == feature_hashes(COLUMNS, matrix)
    first, item = made[0], batch[0]
    assert first.event_id == "prediction:fraud:3:txn-0"
    assert (first.model_name, first.model_version, first.shadow) == ("fraud", 3, False)
    assert first.causation_id == item.event.event_id
    assert (first.source_topic, first.source_partition, first.source_offset) == (
        item.source.topic,
        item.source.partition,
        item.source.offset,
    )
    assert (first.spec_version, first.produced_at) == (1, T0)
    assert first.occurred_at == item.event.occurred_at
    assert all(
        o.topic == PREDICTIONS_TOPIC and o.key == p.entity_id
        for o, p in zip(result.outputs, made, strict=True)
    )
    # built without validation: each must still be what the contract accepts
    assert all(PredictionMade.model_validate_json(p.model_dump_json()) == p for p in made)


def test_the_same_vectors_scored_again_get_the_same_ids() -> None:
    batch = [vector(n) for n in range(3)]
    table = table_with(served(3))
    first, again = scorer_of(table).score(batch), scorer_of(table).score(batch)
    assert [o.event.event_id for o in first.outputs] == [o.event.event_id for o in again.outputs]


def test_a_batch_scores_with_the_models_it_took_at_its_start() -> None:
    table = table_with(served(1))
    taken: list[Mapping[str, Serving]] = []

    def serving() -> Mapping[str, Serving]:
        taken.append(table.current)
        table.install(served(2))  # a swap lands while the batch is scored
        return taken[0]

    scorer = Scorer(serving, warmup_rows=8, no_model_log_s=60)
    made = predictions(scorer.score([vector(n) for n in range(4)]).outputs)
    assert {p.model_version for p in made} == {1}
    assert scorer.scored == {("fraud", 1): 4}


def test_a_shadow_scores_every_vector_too_flagged() -> None:
    scorer = scorer_of(table_with(served(1), served(2, "shadow")))
    made = predictions(scorer.score([vector(n) for n in range(3)]).outputs)
    assert [(p.model_version, p.shadow) for p in made] == [(1, False)] * 3 + [(2, True)] * 3
    assert made[3].event_id == "prediction.shadow:fraud:2:txn-0"
    assert scorer.shadow_scored == {("fraud", 2): 3}


def test_a_failing_shadow_leaves_the_champion_alone(caplog: pytest.LogCaptureFixture) -> None:
    broken = served(2, "shadow", model=fitted(2, columns=3))  # fitted on the wrong width
    scorer = scorer_of(table_with(served(1), broken))
    with caplog.at_level(logging.ERROR):
        result = scorer.score([vector(n) for n in range(3)])
    assert [p.model_version for p in predictions(result.outputs)] == [1, 1, 1]
    assert not result.rejections
    assert scorer.shadow_failures == {"fraud": 3}


def test_a_shadow_checked_against_other_columns_fails_without_predicting(
    caplog: pytest.LogCaptureFixture,
) -> None:
    other = served(2, "shadow")
    other = replace(other, feature_names=[*other.feature_names[:-1], "renamed"])
    scorer = scorer_of(table_with(served(1), other))
    with caplog.at_level(logging.ERROR):
        result = scorer.score([vector(0)])
    assert [p.model_version for p in predictions(result.outputs)] == [1]
    assert scorer.shadow_failures == {"fraud": 1}


def test_a_failing_champion_dead_letters_its_vectors(caplog: pytest.LogCaptureFixture) -> None:
    scorer = scorer_of(table_with(served(1, model=fitted(1, columns=3))))
    with caplog.at_level(logging.ERROR):
        result = scorer.score([vector(n) for n in range(2)])
    assert not result.outputs
    assert [r.error_type for r in result.rejections] == ["prediction", "prediction"]
    assert "champion version 1 failed" in result.rejections[0].reason


def test_vectors_without_a_champion_are_counted_not_predicted() -> None:
    scorer = scorer_of(table_with(served(1, dataset="other")))
    result = scorer.score([vector(n) for n in range(3)] + [vector(9, dataset="other")])
    assert [p.dataset for p in predictions(result.outputs)] == ["other"]
    assert not result.rejections
    assert scorer.unscored == {("fraud", "no_champion"): 3}


def test_vectors_of_other_columns_than_the_champions_are_counted_not_predicted() -> None:
    scorer = scorer_of(table_with(served(1)))
    other = [vector(5, names=[*COLUMNS[:-1], "renamed"])]
    result = scorer.score([vector(1), *other])
    assert len(result.outputs) == 1
    assert scorer.unscored == {("fraud", "feature_mismatch"): 1}


def test_a_regressor_predicts_an_estimate_without_scores() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, len(COLUMNS)))
    model = served(1, model=LinearRegression().fit(x, x[:, 0]))
    made = predictions(scorer_of(table_with(model)).score([vector(1)]).outputs)
    assert made[0].scores is None
    assert isinstance(made[0].prediction, float)
    assert PredictionMade.model_validate_json(made[0].model_dump_json()) == made[0]


class NotFinite(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    classes_ = np.array([False, True])

    def predict_proba(self, rows: Any) -> Any:
        out = np.full((len(rows), 2), 0.5)
        out[0] = np.nan
        return out


def test_a_prediction_that_is_not_finite_is_dead_lettered() -> None:
    scorer = scorer_of(table_with(served(1, model=NotFinite())))
    result = scorer.score([vector(n) for n in range(3)])
    assert len(result.outputs) == 2
    assert [r.event_id for r in result.rejections] == ["features:txn-0"]


class EmptyClassName(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    classes_ = np.array(["", "fraud"])

    def predict_proba(self, rows: Any) -> Any:
        return np.full((len(rows), 2), 0.5)


def test_predictions_the_contract_refuses_dead_letter_the_champions_vectors(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # a class whose key the contract refuses (an empty string): found though nothing is
    # validated per prediction
    champion = replace(served(1, model=EmptyClassName()), classes=("", "fraud"))
    with caplog.at_level(logging.ERROR):
        result = scorer_of(table_with(champion)).score([vector(n) for n in range(3)])
    assert not result.outputs
    assert [r.error_type for r in result.rejections] == ["prediction"] * 3
    assert "champion version 1 failed" in result.rejections[0].reason


def test_the_latest_vectors_are_kept_as_a_warm_up_sample() -> None:
    scorer = scorer_of(table_with(served(1)))
    scorer.score([vector(n) for n in range(20)])
    sample = scorer.recent("fraud", COLUMNS)
    assert sample is not None
    assert sample.shape == (8, len(COLUMNS))
    assert scorer.recent("fraud", COLUMNS[:3]) is None


def test_a_long_prediction_id_is_hashed_within_the_identifier_limit() -> None:
    long = prediction_id("fraud", 12, "x" * 120, shadow=True)
    assert len(long) <= 128
    assert long.startswith("prediction.shadow:")
    assert long == prediction_id("fraud", 12, "x" * 120, shadow=True)
    assert long != prediction_id("fraud", 12, "x" * 120, shadow=False)


def test_predictions_name_the_trace_of_the_batch_that_scored_them() -> None:
    batch = [vector(n) for n in range(3)]
    scorer = scorer_of(table_with(served(3)))
    with TracerProvider().get_tracer("tests").start_as_current_span("process") as span:
        made = predictions(scorer.score(batch).outputs)
    batch_trace = trace.format_trace_id(span.get_span_context().trace_id)
    assert batch_trace != TRACE  # not the trace the vectors were published in
    assert {p.trace_id for p in made} == {batch_trace}
    # another batch: one trace for all of its predictions, not the first batch's
    again = {p.trace_id for p in predictions(scorer.score(batch).outputs)}
    assert len(again) == 1
    assert again != {batch_trace}


def test_batches_are_grouped_by_dataset_in_order() -> None:
    batch = [vector(0), vector(1, dataset="b"), vector(2), vector(3, dataset="b")]
    groups = by_dataset(batch)
    assert {d: [i.event.subject_event_id for i in g] for d, g in groups.items()} == {
        "fraud": ["txn-0", "txn-2"],
        "b": ["txn-1", "txn-3"],
    }
