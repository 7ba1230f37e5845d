"""The checked-in schemas, AsyncAPI document and README are what the code generates."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from driftloop_contracts import TOPICS
from driftloop_contracts.cli import main
from driftloop_contracts.generate import CONTRACTS_ROOT, generated_files

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3] / "contracts"


def test_the_package_finds_the_contracts_directory() -> None:
    assert CONTRACTS_ROOT == ROOT


@pytest.mark.parametrize("path", sorted(generated_files(ROOT)), ids=lambda p: p.name)
def test_checked_in_file_is_not_stale(path: Path) -> None:
    expected = generated_files(ROOT)[path]
    assert path.exists(), f"{path.name} is missing: run `make schemas`"
    assert path.read_text(encoding="utf-8") == expected, f"{path.name} is stale: run `make schemas`"


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def _pointer(document: Any, pointer: str) -> Any:
    for part in pointer.strip("/").split("/"):
        document = document[part]
    return document


def test_asyncapi_references_resolve() -> None:
    document = yaml.safe_load((ROOT / "asyncapi.yaml").read_text(encoding="utf-8"))
    for ref in _refs(document):
        if ref.startswith("#"):
            assert _pointer(document, ref[1:]) is not None
        else:
            assert json.loads((ROOT / ref).read_text(encoding="utf-8"))["title"]


def test_asyncapi_describes_every_topic_and_role() -> None:
    document = yaml.safe_load((ROOT / "asyncapi.yaml").read_text(encoding="utf-8"))
    assert document["asyncapi"] == "3.0.0"
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {topic.name for topic in TOPICS}
    roles = sum(len(t.producers) + len(t.consumers) for t in TOPICS)
    assert len(document["operations"]) == roles


def test_cli_reports_the_repository_up_to_date_and_compatible(capsys: Any) -> None:
    assert main(["generate", "--check"]) == 0
    assert main(["compat"]) == 0
    assert "all contracts are compatible" in capsys.readouterr().out


@pytest.fixture
def copy_root(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    shutil.copy(ROOT / "asyncapi.yaml", tmp_path / "asyncapi.yaml")
    return tmp_path


def _publish_with(root: Path, name: str, extra_property: str) -> None:
    path = root / "schemas" / name
    schema = json.loads(path.read_text(encoding="utf-8"))
    schema["properties"][extra_property] = {"type": "string"}
    path.write_text(json.dumps(schema), encoding="utf-8")


def test_cli_compat_fails_on_a_breaking_change(copy_root: Path, capsys: Any) -> None:
    _publish_with(copy_root, "prediction.v1.json", "region")
    assert main(["--root", str(copy_root), "compat"]) == 1
    out = capsys.readouterr().out
    assert "prediction.v1.json: breaking change: $.region: property removed" in out
    assert "new major version" in out


def test_cli_generate_refuses_to_overwrite_a_published_schema(copy_root: Path) -> None:
    _publish_with(copy_root, "data.v1.json", "region")
    assert main(["--root", str(copy_root), "generate"]) == 1
    assert "region" in (copy_root / "schemas" / "data.v1.json").read_text(encoding="utf-8")


def test_cli_generate_check_lists_stale_files(copy_root: Path, capsys: Any) -> None:
    (copy_root / "asyncapi.yaml").write_text("stale\n", encoding="utf-8")
    (copy_root / "schemas" / "outcome.v1.json").unlink()
    assert main(["--root", str(copy_root), "generate", "--check"]) == 1
    out = capsys.readouterr().out
    assert "stale: asyncapi.yaml" in out
    assert "stale: schemas/outcome.v1.json" in out
    assert main(["--root", str(copy_root), "generate"]) == 0
    assert main(["--root", str(copy_root), "generate", "--check"]) == 0


def test_cli_compat_against_a_git_revision() -> None:
    assert main(["compat", "--ref", "HEAD"]) == 0
    with pytest.raises(SystemExit, match="unknown git revision"):
        main(["compat", "--ref", "no-such-revision-anywhere"])
