"""river models as pickles, loaded only after the signature checks out and only from safe globals.

A pickle can run any code while it loads, so a ``river-pickle`` artifact is loaded only when its
HMAC-SHA256 signature (see :mod:`driftloop_artifacts.signing`) matches: only the holder of the
registry's key can make one. As a second line of defence the unpickler resolves only classes and
functions defined in river itself (minus the subpackages that read files or the network) and a
short list of standard-library and numpy names river models are made of; anything else —
``os.system``, ``builtins.eval``, a module, a dunder attribute — is refused.
"""

from __future__ import annotations

import io
import pickle
import types
from typing import Any

from driftloop_artifacts.errors import ArtifactRefused

__all__ = ["RIVER_SAFE_GLOBALS", "RestrictedUnpickler", "dump_river", "load_river"]

PICKLE_PROTOCOL = 5

RIVER_SAFE_GLOBALS: frozenset[str] = frozenset(
    {
        # plain data constructors
        "builtins.bool",
        "builtins.bytearray",
        "builtins.bytes",
        "builtins.complex",
        "builtins.dict",
        "builtins.float",
        "builtins.frozenset",
        "builtins.int",
        "builtins.list",
        "builtins.set",
        "builtins.slice",
        "builtins.str",
        "builtins.tuple",
        # containers and helpers river estimators keep in their state
        "collections.Counter",
        "collections.OrderedDict",
        "collections.defaultdict",
        "collections.deque",
        "copy.deepcopy",  # SoftmaxRegression: defaultdict(partial(copy.deepcopy, ...))
        "functools.partial",  # ARF, GaussianNB, HalfSpaceTrees: defaultdict factories
        "random.Random",  # seeded estimators keep their generator
        # numpy arrays, scalars and dtypes (numpy 2 module paths)
        "numpy.dtype",
        "numpy.ndarray",
        "numpy._core.multiarray._reconstruct",
        "numpy._core.multiarray.scalar",
        "numpy._core.numeric._frombuffer",
    }
)
"""Globals outside river that a river pickle may name, matched exactly."""

_RIVER_PACKAGE = "river"
_RIVER_DENIED = (
    "river.api",
    "river.bandit.datasets",
    "river.checks",
    "river.compat",
    "river.datasets",
    "river.evaluate",
    "river.stream",
)
"""river subpackages that read files or the network, wrap other libraries, or run test suites."""

_RESOLVABLE = (type, types.FunctionType, types.BuiltinFunctionType)


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only river's own classes and functions and safe globals."""

    def find_class(self, module: str, name: str, /) -> Any:
        """Resolve ``module.name`` if the policy allows it; raise otherwise.

        Raises:
            ArtifactRefused: the global is not allowed.
        """
        qualified = f"{module}.{name}"
        if qualified in RIVER_SAFE_GLOBALS:
            return super().find_class(module, name)
        if not _in_river(module) or any(part.startswith("__") for part in name.split(".")):
            raise ArtifactRefused(
                f"river pickle names a global outside the allow-list: {qualified}"
            )
        found = super().find_class(module, name)
        # A river module may re-export something from elsewhere (``river.x.os``): what was
        # found must itself be a class or function defined in river.
        if not isinstance(found, _RESOLVABLE) or not _in_river(getattr(found, "__module__", "")):
            raise ArtifactRefused(
                f"river pickle names a global outside the allow-list: {qualified}"
            )
        return found


def _in_river(module: str) -> bool:
    inside = module == _RIVER_PACKAGE or module.startswith(_RIVER_PACKAGE + ".")
    return inside and not any(module == d or module.startswith(d + ".") for d in _RIVER_DENIED)


def dump_river(model: object) -> bytes:
    """Pickle a river model (unsigned: sign the bytes before they leave the process)."""
    return pickle.dumps(model, protocol=PICKLE_PROTOCOL)


def load_river(payload: bytes) -> Any:
    """Unpickle a river model whose signature has already been verified.

    Raises:
        ArtifactRefused: the pickle names a global outside the allow-list or is malformed.
    """
    try:
        return RestrictedUnpickler(io.BytesIO(payload)).load()
    except ArtifactRefused:
        raise
    except (
        pickle.UnpicklingError,
        EOFError,
        AttributeError,
        ImportError,
        LookupError,
        TypeError,
        ValueError,
    ) as error:
        raise ArtifactRefused(f"river pickle cannot be loaded: {error}") from error
