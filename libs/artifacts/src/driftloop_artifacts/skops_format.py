"""scikit-learn models as skops bytes, loaded only when every type is on driftloop's allow-list.

skops never unpickles: it rebuilds objects from a JSON schema, and ``skops.io.loads`` only
constructs types it trusts. It trusts scikit-learn's public estimators, numpy and scipy ufuncs,
numpy dtypes and plain builtins by default; everything else is reported by
``skops.io.get_untrusted_types``. driftloop passes to ``loads`` exactly the reported types that
are on :data:`SKOPS_ALLOWED_TYPES` — an explicit list of names, never a prefix and never
"whatever the file asks for" — and refuses the artifact when anything else is reported.
"""

from __future__ import annotations

import zipfile
from typing import Any

import skops.io
from skops.io.exceptions import UntrustedTypesFoundException

from driftloop_artifacts._trees import check_tree_structures
from driftloop_artifacts.errors import ArtifactRefused, UnsupportedModelError

__all__ = ["SKOPS_ALLOWED_TYPES", "dump_sklearn", "load_sklearn", "refused_types"]

SKOPS_ALLOWED_TYPES: frozenset[str] = frozenset(
    {
        # HistGradientBoostingClassifier/Regressor keep each tree in a TreePredictor. skops does
        # not trust it by default because predict() indexes its node array without bounds
        # checks; driftloop checks those indices after loading (see _trees.py).
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        # HistGradientBoosting* with categorical features: the fitted preprocessor holds
        # functools.partial(sklearn.utils.validation.check_array, ...).
        "functools.partial",
        "sklearn.utils.validation.check_array",
        # DecisionTree*, RandomForest*, ExtraTrees*, GradientBoosting*: the Cython tree, whose
        # node indices are checked after loading as well.
        "sklearn.tree._tree.Tree",
        # numpy.dtype objects, e.g. SimpleImputer's _fit_dtype and KBinsDiscretizer's dtype.
        "numpy.dtype",
    }
)
"""Types, beyond skops' own defaults, that driftloop lets skops construct.

Names are matched exactly. A prefix such as ``sklearn.`` would be unsafe: skops resolves a
function by looking the name up in the module, and scikit-learn modules re-export standard
library functions (``sklearn.utils._testing.check_output`` is ``subprocess.check_output``).
"""


def refused_types(payload: bytes) -> list[str]:
    """Return the types in a skops payload that driftloop would refuse, sorted.

    Raises:
        ArtifactRefused: the payload is not a readable skops file.
    """
    return [name for name in _untrusted_types(payload) if name not in SKOPS_ALLOWED_TYPES]


def dump_sklearn(model: object) -> bytes:
    """Serialise a scikit-learn estimator or pipeline to skops bytes.

    Raises:
        UnsupportedModelError: the model holds types driftloop would refuse to load.
    """
    payload: bytes = skops.io.dumps(model, compression=zipfile.ZIP_DEFLATED)
    refused = refused_types(payload)
    if refused:
        raise UnsupportedModelError(f"the model holds types driftloop does not load: {refused}")
    return payload


def load_sklearn(payload: bytes) -> Any:
    """Load skops bytes after checking every type against the allow-list.

    Raises:
        ArtifactRefused: a type outside the allow-list, an unreadable payload, or a tree whose
            node indices point outside its arrays.
    """
    untrusted = _untrusted_types(payload)
    refused = [name for name in untrusted if name not in SKOPS_ALLOWED_TYPES]
    if refused:
        raise ArtifactRefused(f"skops artifact holds types outside the allow-list: {refused}")
    try:
        model = skops.io.loads(payload, trusted=untrusted)
    except UntrustedTypesFoundException as error:
        raise ArtifactRefused(f"skops refused the artifact: {error}") from error
    check_tree_structures(model)
    return model


def _untrusted_types(payload: bytes) -> list[str]:
    try:
        return list(skops.io.get_untrusted_types(data=payload))
    except (zipfile.BadZipFile, KeyError, TypeError, ValueError) as error:
        raise ArtifactRefused(f"not a readable skops artifact: {error}") from error
