"""The spec document inside the contracts' ``SpecApplied`` example is a real, canonical spec."""

from __future__ import annotations

import pytest

from driftloop_contracts import SpecApplied
from driftloop_spec import DatasetSpec

pytestmark = pytest.mark.unit


def test_the_spec_applied_example_carries_a_canonical_spec_document() -> None:
    example = SpecApplied.example()
    spec = DatasetSpec.from_document(example.spec)
    assert spec.to_document() == example.spec
    assert example.digest_matches()
    assert spec.digest() == example.digest
