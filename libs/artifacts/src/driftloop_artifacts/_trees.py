"""Index checks for the tree arrays skops loads but cannot vouch for.

scikit-learn walks decision trees (``sklearn.tree._tree.Tree``) and histogram gradient boosting
trees (``TreePredictor``) in compiled code without bounds checks. A crafted artifact whose child
or feature indices point outside the arrays could read arbitrary memory or loop forever at the
first prediction. After skops has built the objects, every such tree must belong to an estimator
that driftloop knows, and its indices must stay in range: children after their parent and inside
the node array, features below the estimator's ``n_features_in_``, bitsets inside their arrays.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.ensemble._hist_gradient_boosting.gradient_boosting import BaseHistGradientBoosting
from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
from sklearn.tree import BaseDecisionTree
from sklearn.tree._tree import Tree

from driftloop_artifacts.errors import ArtifactRefused

__all__ = ["check_tree_structures"]

_OPAQUE = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, str, bytes)


def check_tree_structures(model: object) -> None:
    """Refuse ``model`` if any tree in it has an index outside its arrays.

    Raises:
        ArtifactRefused: a malformed tree, or a tree no known estimator owns.
    """
    found = list(_walk(model))
    checked: set[int] = set()
    for obj in found:
        if isinstance(obj, BaseHistGradientBoosting):
            checked.update(_check_hist_gradient_boosting(obj))
        elif isinstance(obj, BaseDecisionTree) and hasattr(obj, "tree_"):
            _check_tree(obj.tree_, _n_features(obj))
            checked.add(id(obj.tree_))
    for obj in found:
        if isinstance(obj, Tree | TreePredictor) and id(obj) not in checked:
            raise ArtifactRefused(f"{type(obj).__name__} outside a known estimator")


def _walk(root: object) -> Iterator[object]:
    seen: set[int] = set()
    stack: list[object] = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, _OPAQUE):
            continue
        seen.add(id(obj))
        yield obj
        stack.extend(_children(obj))


def _children(obj: object) -> list[object]:
    if isinstance(obj, dict):
        return [*obj.keys(), *obj.values()]
    if isinstance(obj, list | tuple | set | frozenset):
        return list(obj)
    if isinstance(obj, np.ndarray):
        return list(obj.ravel()) if obj.dtype == object else []
    attributes = getattr(obj, "__dict__", None)
    return list(attributes.values()) if isinstance(attributes, dict) else []


def _n_features(estimator: Any) -> int:
    n_features = getattr(estimator, "n_features_in_", None)
    if not isinstance(n_features, int | np.integer) or n_features < 1:
        raise ArtifactRefused(f"{type(estimator).__name__} has no valid n_features_in_")
    return int(n_features)


def _check_tree(tree: Tree, n_features_in: int) -> None:
    bound = min(n_features_in, int(tree.n_features))
    left, right = np.asarray(tree.children_left), np.asarray(tree.children_right)
    internal = left != -1  # sklearn's TREE_LEAF
    _check_nodes(
        "Tree", internal, left, right, np.asarray(tree.feature), bound, int(tree.node_count)
    )


def _check_hist_gradient_boosting(estimator: BaseHistGradientBoosting) -> set[int]:
    if not hasattr(estimator, "_predictors"):  # not fitted: no trees
        return set()
    n_features = _n_features(estimator)
    is_categorical = np.asarray(estimator._bin_mapper.is_categorical_, dtype=bool)
    if is_categorical.shape != (n_features,):
        raise ArtifactRefused("HistGradientBoosting bin mapper does not match n_features_in_")
    predictors = [p for row in estimator._predictors for p in row]
    for predictor in predictors:
        _check_predictor(predictor, n_features, is_categorical)
    return {id(p) for p in predictors}


def _check_predictor(predictor: Any, n_features: int, is_categorical: NDArray[np.bool_]) -> None:
    if not isinstance(predictor, TreePredictor):
        raise ArtifactRefused(f"unexpected predictor type {type(predictor).__name__}")
    nodes = predictor.nodes
    internal = nodes["is_leaf"] == 0
    feature = nodes["feature_idx"].astype(np.int64)
    _check_nodes("TreePredictor", internal, nodes["left"], nodes["right"], feature, n_features, 0)
    categorical = internal & (nodes["is_categorical"] != 0)
    if not categorical.any():
        return
    if not is_categorical[feature[categorical]].all():
        raise ArtifactRefused("TreePredictor splits a non-categorical feature by category")
    rows = min(
        _bitset_rows(predictor.raw_left_cat_bitsets),
        _bitset_rows(predictor.binned_left_cat_bitsets),
    )
    if (nodes["bitset_idx"][categorical] >= rows).any():
        raise ArtifactRefused("TreePredictor bitset index out of range")


def _bitset_rows(bitsets: Any) -> int:
    if not isinstance(bitsets, np.ndarray) or bitsets.ndim != 2 or bitsets.shape[1] != 8:
        raise ArtifactRefused("TreePredictor bitsets are not an (n, 8) array")
    return int(bitsets.shape[0])


def _check_nodes(
    kind: str,
    internal: NDArray[np.bool_],
    left: NDArray[Any],
    right: NDArray[Any],
    feature: NDArray[Any],
    n_features: int,
    node_count: int,
) -> None:
    n_nodes = len(internal)
    if n_nodes == 0 or (node_count and node_count != n_nodes):
        raise ArtifactRefused(f"{kind} has an inconsistent node count")
    index = np.arange(n_nodes)[internal]
    children_ok = (left[internal] > index) & (left[internal] < n_nodes)
    children_ok &= (right[internal] > index) & (right[internal] < n_nodes)
    if not children_ok.all():
        raise ArtifactRefused(f"{kind} child index out of range")
    features = feature[internal]
    if ((features < 0) | (features >= n_features)).any():
        raise ArtifactRefused(f"{kind} feature index out of range")
