"""Shared values for the ``example()`` classmethods, so the examples tell one consistent story.

One payment on the ``payments`` dataset flows through the loop: the data event, its validation,
features, prediction, outcome, and the drift, training and promotion it eventually leads to.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = [
    "ARTIFACT_SHA256",
    "ARTIFACT_URI",
    "DATASET",
    "DATA_EVENT_ID",
    "DRIFT_EVENT_ID",
    "ENTITY_ID",
    "EVENT_TIME",
    "FEATURES_EVENT_ID",
    "MODEL_NAME",
    "RUN_ID",
    "VALIDATED_EVENT_ID",
    "later",
]

DATASET = "payments"
ENTITY_ID = "acct-1042"
MODEL_NAME = "payments-fraud"
RUN_ID = "run-20250115-0001"
DATA_EVENT_ID = "0b9f6c1e-6f1d-4f4e-9d6a-2a1c5e7b9d10"
VALIDATED_EVENT_ID = "data.validated:0b9f6c1e-6f1d-4f4e-9d6a-2a1c5e7b9d10"
DRIFT_EVENT_ID = "drift.detected:payments:7:amount:psi:1737450000"
FEATURES_EVENT_ID = "features:0b9f6c1e-6f1d-4f4e-9d6a-2a1c5e7b9d10"
EVENT_TIME = datetime(2025, 1, 15, 9, 30, 0, tzinfo=UTC)
ARTIFACT_SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
ARTIFACT_URI = "gridfs://artifacts/678a1b2c3d4e5f6a7b8c9d0e"


def later(**delta: float) -> datetime:
    """Return ``EVENT_TIME`` shifted by ``timedelta(**delta)``."""
    return EVENT_TIME + timedelta(**delta)
