"""The promotion policy and alias history rules: pure functions over plain values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "AliasMove",
    "Decision",
    "PromotionPolicy",
    "decide_after_shadow",
    "decide_promotion",
    "rollback_target",
]

Action = Literal["promote", "shadow", "hold", "reject"]


@dataclass(frozen=True)
class PromotionPolicy:
    """How a dataset's candidates reach production (from its spec's ``promotion`` section)."""

    metric: str
    higher_is_better: bool
    min_improvement: float = 0.0
    mode: Literal["automatic", "shadow", "manual"] = "automatic"
    shadow_events: int | None = None


@dataclass(frozen=True)
class Decision:
    """What to do with a candidate: ``promote`` to champion, serve as ``shadow``, ``hold`` it
    as a candidate for an approver, or ``reject`` (archive) it; with the reason and evidence."""

    action: Action
    reason: str
    evidence: dict[str, float] = field(default_factory=dict)


def decide_promotion(
    policy: PromotionPolicy,
    candidate: Mapping[str, float],
    champion: Mapping[str, float] | None,
) -> Decision:
    """Decide on a freshly trained candidate, given both models' metrics on the same holdout.

    ``champion`` is ``None`` when the dataset has no champion yet.
    """
    metric = policy.metric
    if metric not in candidate:
        return Decision("reject", f"the candidate was not evaluated on {metric}")
    if champion is None:
        evidence = {metric: candidate[metric]}
        if policy.mode == "manual":
            return Decision(
                "hold", "no champion yet; the manual policy waits for an approver", evidence
            )
        return Decision("promote", "first model of the dataset: nothing to compare with", evidence)
    if metric not in champion:
        return Decision(
            "hold",
            f"the champion was not evaluated on {metric}; an approver must decide",
            {metric: candidate[metric]},
        )
    verdict = _compare(policy, candidate[metric], champion[metric])
    if verdict.action == "reject" or policy.mode == "automatic":
        return verdict
    if policy.mode == "shadow":
        return Decision(
            "shadow",
            f"{verdict.reason}; serving in shadow for {policy.shadow_events} events first",
            verdict.evidence,
        )
    return Decision("hold", f"{verdict.reason}; waiting for an approver", verdict.evidence)


def decide_after_shadow(
    policy: PromotionPolicy,
    shadow: Mapping[str, float],
    champion: Mapping[str, float],
    events_scored: int,
) -> Decision:
    """Decide on a shadow model once it has been compared with the champion on live labels."""
    needed = policy.shadow_events or 0
    if events_scored < needed:
        return Decision("hold", f"shadow has scored {events_scored} of {needed} events")
    if policy.metric not in shadow or policy.metric not in champion:
        return Decision("hold", f"no live {policy.metric} for both models yet")
    return _compare(policy, shadow[policy.metric], champion[policy.metric])


def _compare(policy: PromotionPolicy, candidate: float, champion: float) -> Decision:
    metric = policy.metric
    gain = candidate - champion if policy.higher_is_better else champion - candidate
    evidence = {metric: candidate, f"champion_{metric}": champion, "improvement": gain}
    if gain < policy.min_improvement:
        return Decision(
            "reject",
            f"{metric} {candidate:.4g} vs champion {champion:.4g}: "
            f"improvement {gain:.4g} is below the policy minimum "
            f"{policy.min_improvement:.4g}",
            evidence,
        )
    return Decision(
        "promote",
        f"{metric} improved by {gain:.4g} over the champion "
        f"(policy minimum {policy.min_improvement:.4g})",
        evidence,
    )


@dataclass(frozen=True)
class AliasMove:
    """One entry of an alias's append-only history."""

    kind: Literal["promote", "rollback"]
    version: int


def rollback_target(history: Sequence[AliasMove]) -> int | None:
    """The version a rollback restores: the one that served before the current one.

    History is replayed as a stack: a promotion pushes its version, a rollback pops. So two
    rollbacks in a row go two promotions back, not back and forth between two versions.
    """
    serving: list[int] = []
    for move in history:
        if move.kind == "promote":
            serving.append(move.version)
        elif serving:
            serving.pop()
    return serving[-2] if len(serving) >= 2 else None
