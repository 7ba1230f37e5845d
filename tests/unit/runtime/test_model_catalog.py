"""The model catalog: which version holds each serving alias, from lifecycle events in any order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from driftloop_contracts import ModelPromoted, ModelRetired, ModelRolledBack
from driftloop_runtime import ModelCatalog

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 1, tzinfo=UTC)
SHA = "a" * 64


def promoted(version: int, minute: int, alias: str = "champion") -> ModelPromoted:
    return ModelPromoted.example().model_copy(
        update={
            "event_id": f"model.promoted:fraud:{version}:{alias}",
            "occurred_at": T0 + timedelta(minutes=minute),
            "dataset": "fraud",
            "version": version,
            "alias": alias,
            "artifact_sha256": SHA,
            "artifact_uri": f"gridfs://artifacts/v{version}",
        }
    )


def rolled_back(version: int, previous: int, minute: int) -> ModelRolledBack:
    return ModelRolledBack.example().model_copy(
        update={
            "event_id": f"model.rolled_back:fraud:{version}:{minute}",
            "occurred_at": T0 + timedelta(minutes=minute),
            "dataset": "fraud",
            "version": version,
            "previous_version": previous,
        }
    )


def retired(version: int, minute: int) -> ModelRetired:
    return ModelRetired.example().model_copy(
        update={
            "event_id": f"model.retired:fraud:{version}:{minute}",
            "occurred_at": T0 + timedelta(minutes=minute),
            "dataset": "fraud",
            "version": version,
        }
    )


def test_an_empty_catalog_serves_nothing() -> None:
    catalog = ModelCatalog()
    assert catalog.serving("fraud") is None
    assert catalog.datasets() == []


def test_a_promotion_sets_the_alias_and_reports_the_change() -> None:
    catalog = ModelCatalog()
    first = catalog.apply(promoted(1, 0))
    second = catalog.apply(promoted(2, 5))

    assert first is not None
    assert first.before is None
    assert first.after is not None
    assert second is not None
    assert second.before == first.after
    served = catalog.serving("fraud")
    assert served is not None
    assert (served.version, served.artifact_uri, served.alias) == (
        2,
        "gridfs://artifacts/v2",
        "champion",
    )
    assert catalog.datasets() == ["fraud"]


def test_a_replayed_or_older_event_changes_nothing() -> None:
    catalog = ModelCatalog()
    catalog.apply(promoted(1, 0))
    catalog.apply(promoted(2, 5))

    assert catalog.apply(promoted(2, 5)) is None  # the same event again
    assert catalog.apply(promoted(1, 0)) is None  # an older one read late
    served = catalog.serving("fraud")
    assert served is not None
    assert served.version == 2


def test_events_of_the_three_topics_apply_in_the_order_they_happened() -> None:
    catalog = ModelCatalog()
    # read topic by topic (promoted, rolled back, retired), not in time order
    catalog.apply_all(
        [
            promoted(1, 0),
            promoted(2, 5),
            promoted(3, 6, alias="shadow"),
            rolled_back(1, 2, 10),
            retired(3, 8),
        ]
    )

    champion = catalog.serving("fraud")
    assert champion is not None
    assert champion.version == 1
    assert catalog.serving("fraud", "shadow") is None


def test_a_rollback_read_before_the_promotion_it_undid_still_wins() -> None:
    catalog = ModelCatalog()
    catalog.apply(rolled_back(1, 2, 10))
    assert catalog.apply(promoted(2, 5)) is None
    champion = catalog.serving("fraud")
    assert champion is not None
    assert champion.version == 1


def test_retiring_the_shadow_leaves_the_champion_serving() -> None:
    catalog = ModelCatalog()
    catalog.apply(promoted(1, 0))
    catalog.apply(promoted(2, 1, alias="shadow"))
    change = catalog.apply(retired(2, 2))

    assert change is not None
    assert change.after is None
    assert change.before is not None
    assert change.before.version == 2
    assert catalog.serving("fraud", "shadow") is None
    champion = catalog.serving("fraud")
    assert champion is not None
    assert champion.version == 1
