"""The promotion policy and the rollback rule, as pure functions."""

from __future__ import annotations

from typing import Literal

import pytest

from driftloop_registry.policy import (
    AliasMove,
    PromotionPolicy,
    decide_after_shadow,
    decide_promotion,
    rollback_target,
)

pytestmark = pytest.mark.unit

AUC = PromotionPolicy(metric="roc_auc", higher_is_better=True, min_improvement=0.01)
MAE = PromotionPolicy(metric="mae", higher_is_better=False, min_improvement=0.5)


def test_the_first_model_of_a_dataset_is_promoted() -> None:
    decision = decide_promotion(AUC, {"roc_auc": 0.7}, None)
    assert decision.action == "promote"
    assert decision.evidence == {"roc_auc": 0.7}


@pytest.mark.parametrize(
    ("candidate", "champion", "action"),
    [
        (0.90, 0.88, "promote"),
        (0.89, 0.88, "promote"),
        (0.885, 0.88, "reject"),
        (0.80, 0.88, "reject"),
    ],
)
def test_automatic_promotion_needs_the_minimum_improvement(
    candidate: float, champion: float, action: str
) -> None:
    decision = decide_promotion(AUC, {"roc_auc": candidate}, {"roc_auc": champion})
    assert decision.action == action
    assert decision.evidence["improvement"] == pytest.approx(candidate - champion)


def test_lower_is_better_metrics_improve_downwards() -> None:
    assert decide_promotion(MAE, {"mae": 9.0}, {"mae": 10.0}).action == "promote"
    assert decide_promotion(MAE, {"mae": 9.8}, {"mae": 10.0}).action == "reject"
    assert decide_promotion(MAE, {"mae": 11.0}, {"mae": 10.0}).action == "reject"


def test_shadow_first_serves_a_better_candidate_in_shadow_then_decides_on_live_metrics() -> None:
    policy = PromotionPolicy("roc_auc", True, 0.01, mode="shadow", shadow_events=1000)
    assert decide_promotion(policy, {"roc_auc": 0.95}, {"roc_auc": 0.9}).action == "shadow"
    assert decide_promotion(policy, {"roc_auc": 0.9}, {"roc_auc": 0.9}).action == "reject"
    waiting = decide_after_shadow(policy, {"roc_auc": 0.95}, {"roc_auc": 0.9}, events_scored=999)
    assert waiting.action == "hold"
    assert "999 of 1000" in waiting.reason
    live = decide_after_shadow(policy, {"roc_auc": 0.95}, {"roc_auc": 0.9}, events_scored=1000)
    assert live.action == "promote"
    worse = decide_after_shadow(policy, {"roc_auc": 0.85}, {"roc_auc": 0.9}, events_scored=5000)
    assert worse.action == "reject"


def test_manual_policy_holds_for_an_approver() -> None:
    policy = PromotionPolicy("roc_auc", True, 0.0, mode="manual")
    assert decide_promotion(policy, {"roc_auc": 0.95}, {"roc_auc": 0.9}).action == "hold"
    assert decide_promotion(policy, {"roc_auc": 0.95}, None).action == "hold"


def test_a_candidate_without_the_policy_metric_is_rejected() -> None:
    decision = decide_promotion(AUC, {"accuracy": 0.99}, {"roc_auc": 0.9})
    assert decision.action == "reject"
    assert "roc_auc" in decision.reason


def test_rollback_restores_the_version_that_served_before() -> None:
    promote: Literal["promote"] = "promote"
    rollback: Literal["rollback"] = "rollback"
    assert rollback_target([]) is None
    assert rollback_target([AliasMove(promote, 1)]) is None
    history = [AliasMove(promote, 1), AliasMove(promote, 2), AliasMove(promote, 3)]
    assert rollback_target(history) == 2
    # two rollbacks in a row go two promotions back, not back and forth
    assert rollback_target([*history, AliasMove(rollback, 2)]) == 1
    assert rollback_target([*history, AliasMove(rollback, 2), AliasMove(rollback, 1)]) is None
