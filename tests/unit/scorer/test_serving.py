"""The swap table: a batch keeps the models it took; swaps, retirements and refusals."""

from __future__ import annotations

import pytest

from driftloop_scorer.serving import REFUSALS_KEPT, Refusal, ServingTable

from .helpers import T0, served

pytestmark = pytest.mark.unit


def refusal(version: int) -> Refusal:
    return Refusal("fraud", "champion", "fraud", version, f"e-{version}", "digest mismatch", T0)


def test_a_view_taken_before_a_swap_keeps_the_models_it_took() -> None:
    table = ServingTable()
    table.install(served(1))
    taken = table.current
    table.install(served(2))
    champion_then, champion_now = taken["fraud"].champion, table.current["fraud"].champion
    assert champion_then is not None
    assert champion_now is not None
    assert (champion_then.version.version, champion_now.version.version) == (1, 2)


def test_champion_and_shadow_are_swapped_apart() -> None:
    table = ServingTable()
    table.install(served(1))
    table.install(served(2, "shadow"))
    table.retire("fraud", "shadow")
    serving = table.current["fraud"]
    assert serving.champion is not None
    assert serving.champion.version.version == 1
    assert serving.shadow is None
    assert table.swaps["fraud"] == 2


def test_refusals_are_all_counted_and_the_latest_kept() -> None:
    table = ServingTable()
    table.install(served(1))
    for version in range(2, 4 + REFUSALS_KEPT):
        table.refuse(refusal(version))
    described = table.describe()["fraud"]
    assert described["refused"] == REFUSALS_KEPT + 2
    refusals = described["refusals"]
    assert isinstance(refusals, list)
    assert len(refusals) == REFUSALS_KEPT
    assert refusals[-1]["version"] == 3 + REFUSALS_KEPT
    champion = described["champion"]
    assert isinstance(champion, dict)
    assert champion["version"] == 1
    assert champion["loaded_at"] == T0.isoformat()


def test_a_dataset_with_only_refusals_is_described() -> None:
    table = ServingTable()
    table.refuse(refusal(1))
    assert table.describe()["fraud"]["champion"] is None
