"""Model math shared by the trainer, the scorer and the monitor (pure: no I/O)."""

from __future__ import annotations

from driftloop_modeling.detectors import Detection, PerformanceDetector, best_split
from driftloop_modeling.drift import (
    chi2_pvalue,
    ks_distance,
    one_hot_live_counts,
    one_hot_reference_counts,
    psi,
)
from driftloop_modeling.evaluation import (
    Metrics,
    classification_metrics,
    recall_at_fpr,
    regression_metrics,
)
from driftloop_modeling.prediction import (
    BatchPrediction,
    ClassLabel,
    class_key,
    feature_hashes,
    is_classifier_model,
    predict,
)
from driftloop_modeling.reference import (
    DEFAULT_BINS,
    SCORE_REFERENCE,
    bin_counts,
    categorical_reference,
    feature_references,
    histogram_edges,
    numeric_reference,
)

__all__: list[str] = [
    "DEFAULT_BINS",
    "SCORE_REFERENCE",
    "BatchPrediction",
    "ClassLabel",
    "Detection",
    "Metrics",
    "PerformanceDetector",
    "best_split",
    "bin_counts",
    "categorical_reference",
    "chi2_pvalue",
    "class_key",
    "classification_metrics",
    "feature_hashes",
    "feature_references",
    "histogram_edges",
    "is_classifier_model",
    "ks_distance",
    "numeric_reference",
    "one_hot_live_counts",
    "one_hot_reference_counts",
    "predict",
    "psi",
    "recall_at_fpr",
    "regression_metrics",
]
