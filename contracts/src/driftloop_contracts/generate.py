"""The generated files of ``contracts/``: JSON Schemas, the AsyncAPI document, README blocks."""

from __future__ import annotations

import json
from pathlib import Path

from driftloop_contracts.asyncapi import render_asyncapi
from driftloop_contracts.compat import breaking_changes
from driftloop_contracts.docs import update_readme
from driftloop_contracts.schemas import generated_schemas

__all__ = ["CONTRACTS_ROOT", "generated_files", "overwrites_breaking", "stale_files", "write_files"]

CONTRACTS_ROOT = Path(__file__).resolve().parents[2]
"""The ``contracts/`` directory of the source tree this package runs from."""


def generated_files(root: Path = CONTRACTS_ROOT) -> dict[Path, str]:
    """Return every generated file under ``root`` with the content it should have.

    Args:
        root: The ``contracts/`` directory; its ``README.md`` must exist (blocks are spliced in).
    """
    files = {root / "schemas" / name: text for name, text in generated_schemas().items()}
    files[root / "asyncapi.yaml"] = render_asyncapi()
    readme = root / "README.md"
    files[readme] = update_readme(readme.read_text(encoding="utf-8"))
    return files


def stale_files(root: Path = CONTRACTS_ROOT) -> list[Path]:
    """Return the generated files under ``root`` that are missing or out of date."""
    return [path for path, text in generated_files(root).items() if _read(path) != text]


def overwrites_breaking(root: Path = CONTRACTS_ROOT) -> dict[Path, list[str]]:
    """Return the breaking changes regenerating would write over published schemas, by file."""
    found = {}
    for name, text in generated_schemas().items():
        path = root / "schemas" / name
        published = _read(path)
        if published is None:
            continue
        if changes := breaking_changes(json.loads(published), json.loads(text)):
            found[path] = changes
    return found


def write_files(root: Path = CONTRACTS_ROOT) -> list[Path]:
    """Write the stale generated files under ``root``; return the paths written."""
    written = []
    for path, text in generated_files(root).items():
        if _read(path) != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None
