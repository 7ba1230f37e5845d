"""The spec catalog keeps the newest valid spec of each dataset."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from driftloop_contracts import SpecApplied, spec_digest
from driftloop_runtime import SpecCatalog
from driftloop_spec import load_spec

pytestmark = pytest.mark.unit

FRAUD = Path(__file__).parents[3] / "specs" / "fraud.yaml"


def applied(version: int, *, min_amount: float = 0.0, digest: str | None = None) -> SpecApplied:
    document = load_spec(FRAUD).to_document()
    document["fields"]["amount"]["min"] = min_amount
    return SpecApplied(
        event_id=f"spec.applied:fraud:{version}",
        occurred_at=datetime(2026, 11, 1, tzinfo=UTC),
        producer="registry",
        dataset="fraud",
        spec_version=version,
        spec=document,
        digest=digest or spec_digest(document),
    )


def test_newer_versions_replace_older_ones_and_older_ones_are_ignored() -> None:
    catalog = SpecCatalog()
    assert catalog.get("fraud") is None
    assert catalog.apply(applied(1)) is True
    assert catalog.apply(applied(3, min_amount=1.0)) is True
    assert catalog.apply(applied(2)) is False  # a replay from the start of the topic
    held = catalog.get("fraud")
    assert held is not None
    assert held[0] == 3
    assert held[1].fields["amount"].min == 1.0  # type: ignore[union-attr]
    assert catalog.datasets() == ["fraud"]


def test_a_spec_whose_digest_does_not_match_or_that_is_invalid_is_refused() -> None:
    catalog = SpecCatalog()
    assert catalog.apply(applied(1, digest="0" * 64)) is False
    assert catalog.apply(applied(2, min_amount=-5.0)) is False  # log1p(amount) needs min >= 0
    assert catalog.get("fraud") is None
