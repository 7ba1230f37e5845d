"""river models as signed pickles: round trip, and every way a pickle is refused."""

from __future__ import annotations

import dataclasses
import os
import pickle
from pathlib import Path

import pytest
from river.compose import Pipeline as RiverPipeline

from driftloop_artifacts import (
    Artifact,
    ArtifactRefused,
    InvalidSigningKeyError,
    decode_model,
    encode_model,
    key_from_secret,
    sha256_hex,
)
from driftloop_artifacts.signing import sign
from tests.unit.artifacts.conftest import KEY, OTHER_KEY

pytestmark = pytest.mark.unit

POINT = {"a": 0.4, "b": -1.2}


def _signed(payload: bytes, key: bytes = KEY) -> Artifact:
    return Artifact(
        format="river-pickle",
        payload=payload,
        sha256=sha256_hex(payload),
        signature=sign(key, "river-pickle", payload),
    )


def test_round_trip_predicts_the_same(river_model: RiverPipeline) -> None:
    artifact = encode_model(river_model, signing_key=KEY)
    loaded = decode_model(artifact, signing_key=KEY)
    assert artifact.format == "river-pickle"
    assert artifact.signature is not None
    assert "river" in artifact.metadata
    assert loaded.predict_one(POINT) == river_model.predict_one(POINT)
    assert loaded.predict_proba_one(POINT) == river_model.predict_proba_one(POINT)


def test_a_tampered_payload_is_refused_by_its_digest(river_model: RiverPipeline) -> None:
    artifact = encode_model(river_model, signing_key=KEY)
    tampered = dataclasses.replace(artifact, payload=artifact.payload[:-1] + b"\x00")
    with pytest.raises(ArtifactRefused, match="digest mismatch"):
        decode_model(tampered, signing_key=KEY)


def test_a_payload_signed_with_another_key_is_refused(river_model: RiverPipeline) -> None:
    river_model.learn_one(POINT, True)  # other bytes, with a matching digest
    forged = _signed(pickle.dumps(river_model), key=OTHER_KEY)
    with pytest.raises(ArtifactRefused, match="signature does not match"):
        decode_model(forged, signing_key=KEY)


def test_a_payload_without_signature_is_refused(river_model: RiverPipeline) -> None:
    unsigned = dataclasses.replace(encode_model(river_model, signing_key=KEY), signature=None)
    with pytest.raises(ArtifactRefused, match="no signature"):
        decode_model(unsigned, signing_key=KEY)


def test_a_signature_does_not_carry_over_to_another_format(river_model: RiverPipeline) -> None:
    artifact = encode_model(river_model, signing_key=KEY)
    assert sign(KEY, "skops", artifact.payload) != artifact.signature


@pytest.mark.parametrize("key", [None, b"", b"x" * 31], ids=["none", "empty", "31-bytes"])
def test_short_keys_neither_sign_nor_verify(key: bytes | None, river_model: RiverPipeline) -> None:
    with pytest.raises(InvalidSigningKeyError):
        encode_model(river_model, signing_key=key)
    artifact = encode_model(river_model, signing_key=KEY)
    with pytest.raises(InvalidSigningKeyError):
        decode_model(artifact, signing_key=key)


def test_a_key_from_a_secret_setting_needs_32_bytes() -> None:
    assert key_from_secret("s" * 32) == b"s" * 32
    with pytest.raises(InvalidSigningKeyError, match="at least 32"):
        key_from_secret("too short")


class _RunsACommand:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (f"touch {self.marker}",)


def test_a_validly_signed_pickle_calling_os_system_is_still_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    artifact = _signed(pickle.dumps(_RunsACommand(marker)))
    with pytest.raises(ArtifactRefused, match=r"outside the allow-list: posix\.system"):
        decode_model(artifact, signing_key=KEY)
    assert not marker.exists()


def _stack_global_call(module: str, name: str, argument: str) -> bytes:
    """A protocol 4 pickle of ``module.name(argument)``."""

    def text(value: str) -> bytes:
        return b"\x8c" + bytes([len(value)]) + value.encode()

    return b"\x80\x04" + text(module) + text(name) + b"\x93" + text(argument) + b"\x85R."


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("builtins", "eval"),
        ("river.base.base", "collections.namedtuple"),  # a re-export inside a river module
        ("river.base.base", "Base.__subclasses__"),
        ("river.datasets.base", "RemoteDataset"),  # downloads files
        ("river", "base"),  # a module, not a class or function
    ],
)
def test_the_unpickler_resolves_only_river_classes_and_safe_globals(module: str, name: str) -> None:
    with pytest.raises(ArtifactRefused, match="outside the allow-list"):
        decode_model(_signed(_stack_global_call(module, name, "x")), signing_key=KEY)
