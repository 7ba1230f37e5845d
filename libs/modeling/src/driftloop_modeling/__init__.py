"""Model math shared by the trainer, the scorer and the monitor (pure: no I/O)."""

from __future__ import annotations

from driftloop_modeling.prediction import (
    BatchPrediction,
    ClassLabel,
    class_key,
    feature_hashes,
    is_classifier_model,
    predict,
)

__all__: list[str] = [
    "BatchPrediction",
    "ClassLabel",
    "class_key",
    "feature_hashes",
    "is_classifier_model",
    "predict",
]
