"""A run's fit is capped to the trainer's model threads."""

from __future__ import annotations

import threading

import pytest
import sklearn.ensemble  # noqa: F401  (loads the OpenMP runtime the gradient boosting uses)
from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

from driftloop_trainer.threads import with_model_threads

pytestmark = pytest.mark.unit


def openmp_threads() -> set[int]:
    return {p["num_threads"] for p in ThreadpoolController().info() if p["user_api"] == "openmp"}


def test_the_work_runs_with_its_thread_pools_capped_in_its_own_thread() -> None:
    seen: dict[str, set[int]] = {}

    def work() -> str:
        seen["inside"] = openmp_threads()
        return "fitted"

    result: list[str] = []
    thread = threading.Thread(target=lambda: result.append(with_model_threads(work, 1)()))
    thread.start()
    thread.join()
    assert result == ["fitted"]
    assert seen["inside"] == {1}


def test_the_cap_follows_the_setting() -> None:
    assert with_model_threads(openmp_threads, 2)() == {2}
