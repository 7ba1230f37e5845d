"""Swaps follow the catalog's changes in order; a refused version leaves the champion serving."""

from __future__ import annotations

import asyncio
import logging

import pytest
from pymongo.errors import ConnectionFailure

from driftloop_contracts import ModelPromoted, ModelRetired
from driftloop_runtime import ModelCatalog, ServedVersion, ServingChange
from driftloop_scorer.loading import ModelRefusedError
from driftloop_scorer.serving import Refusal, ServedModel, ServingTable
from driftloop_scorer.swaps import Swapper

from .helpers import served, served_version

pytestmark = pytest.mark.unit


class FakeLoader:
    """Loads every version at once, except those listed as refused; records the order."""

    def __init__(self, refused: frozenset[int] = frozenset()) -> None:
        self.refused = refused
        self.loaded: list[int] = []

    async def load(self, version: ServedVersion) -> ServedModel:
        await asyncio.sleep(0)
        if version.version in self.refused:
            raise ModelRefusedError("verification failed: digest mismatch")
        self.loaded.append(version.version)
        return served(version.version, version.alias)


def swapper(loader: FakeLoader) -> tuple[Swapper, ServingTable, list[Refusal]]:
    table, reported = ServingTable(), []

    async def report(refusal: Refusal) -> None:
        reported.append(refusal)

    return Swapper(table, loader, report), table, reported  # type: ignore[arg-type]


def change(version: int | None, alias: str = "champion") -> ServingChange:
    after = served_version(version, alias) if version is not None else None  # type: ignore[arg-type]
    cause = ModelRetired.example() if after is None else ModelPromoted.example()
    return ServingChange("fraud", alias, None, after, cause)  # type: ignore[arg-type]


def champion_of(table: ServingTable) -> int | None:
    held = table.current["fraud"].champion
    return held.version.version if held else None


async def test_the_versions_serving_at_start_are_loaded_then_batches_may_go() -> None:
    catalog = ModelCatalog()
    promoted = ModelPromoted.example().model_copy(update={"dataset": "fraud", "version": 3})
    catalog.apply(promoted)
    loader = FakeLoader()
    swaps, table, _ = swapper(loader)
    assert not swaps.ready.is_set()
    await swaps.load_serving(catalog)
    assert swaps.ready.is_set()
    assert champion_of(table) == 3


async def test_changes_swap_in_the_order_they_came() -> None:
    loader = FakeLoader()
    swaps, table, _ = swapper(loader)
    await asyncio.gather(swaps.on_change(change(1)), swaps.on_change(change(2)))
    assert loader.loaded == [1, 2]
    assert champion_of(table) == 2


async def test_a_refused_version_keeps_the_champion_and_is_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    swaps, table, reported = swapper(FakeLoader(refused=frozenset({2})))
    await swaps.on_change(change(1))
    with caplog.at_level(logging.ERROR):
        await swaps.on_change(change(2))
    assert champion_of(table) == 1
    assert [(r.version, r.reason) for r in reported] == [
        (2, "verification failed: digest mismatch")
    ]
    assert table.refused["fraud"] == 1
    assert "refused version 2" in caplog.text


async def test_a_retired_shadow_stops_serving() -> None:
    swaps, table, _ = swapper(FakeLoader())
    await swaps.on_change(change(1))
    await swaps.on_change(change(2, "shadow"))
    assert table.current["fraud"].shadow is not None
    await swaps.on_change(change(None, "shadow"))
    assert table.current["fraud"].shadow is None
    assert champion_of(table) == 1


class Flaky(FakeLoader):
    """The store is unreachable for the first ``outages`` loads; then ``error`` if given."""

    def __init__(self, outages: int, error: Exception | None = None) -> None:
        super().__init__()
        self.outages, self.error = outages, error

    async def load(self, version: ServedVersion) -> ServedModel:
        if self.outages:
            self.outages -= 1
            raise ConnectionFailure("store unreachable")
        if self.error is not None:
            raise self.error
        return await super().load(version)


async def test_an_unreachable_store_is_retried_not_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loader = Flaky(outages=2)
    table, reported = ServingTable(), []

    async def report(refusal: Refusal) -> None:
        reported.append(refusal)

    swaps = Swapper(table, loader, report, retry_after_s=0)  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR):
        await swaps.on_change(change(1))
    assert champion_of(table) == 1
    assert not reported


async def test_any_other_failure_refuses_the_version(caplog: pytest.LogCaptureFixture) -> None:
    swaps, table, reported = swapper(Flaky(outages=0, error=KeyError("steps")))
    with caplog.at_level(logging.ERROR):
        await swaps.on_change(change(1))
    assert "fraud" not in table.current
    assert [r.reason for r in reported] == ["KeyError('steps')"]
