"""The error stream the performance detectors watch."""

from __future__ import annotations

import pytest

from driftloop_monitor.reports import error_of

pytestmark = pytest.mark.unit


def test_a_classifiers_error_is_the_probability_it_did_not_give_the_truth() -> None:
    confident_miss = error_of(True, False, classifier=True, truth_score=0.02)
    hesitant_miss = error_of(True, False, classifier=True, truth_score=0.45)
    confident_hit = error_of(True, True, classifier=True, truth_score=0.97)
    assert confident_miss == pytest.approx(0.98)
    assert hesitant_miss == pytest.approx(0.55)
    assert confident_hit == pytest.approx(0.03)


def test_without_class_scores_a_classifiers_error_is_zero_or_one() -> None:
    assert error_of("cat", "dog", classifier=True, truth_score=None) == 1.0
    assert error_of("cat", "cat", classifier=True, truth_score=None) == 0.0
    assert error_of(1, True, classifier=True, truth_score=None) == 1.0  # 1 is not the class True


def test_a_regressions_error_is_the_absolute_error() -> None:
    assert error_of(10.0, 12.5, classifier=False, truth_score=None) == 2.5
