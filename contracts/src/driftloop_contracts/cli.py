"""The ``driftloop-contracts`` command: generate the contract files and check compatibility.

Usage::

    driftloop-contracts generate            # write schemas/, asyncapi.yaml, README blocks
    driftloop-contracts generate --check    # exit 1 and list what is stale
    driftloop-contracts compat              # exit 1 on breaking changes vs schemas/
    driftloop-contracts compat --ref origin/main   # ... vs the schemas published on a branch
"""

from __future__ import annotations

import argparse
import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from driftloop_contracts.compat import breaking_changes
from driftloop_contracts.generate import (
    CONTRACTS_ROOT,
    overwrites_breaking,
    stale_files,
    write_files,
)
from driftloop_contracts.registry import EVENTS
from driftloop_contracts.schemas import event_schema, schema_filename

__all__ = ["main"]

_NEW_MAJOR = (
    "Ship a breaking change as a new major version: a model with schema_version 2, published as "
    "<event_type>.v2.json on a new ...v2 topic, while v1 stays as it is."
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code.

    Args:
        argv: Arguments without the program name; ``sys.argv[1:]`` when None.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    root: Path = args.root
    if not (root / "README.md").is_file():
        parser.error(f"{root} does not look like the contracts/ directory; pass --root")
    if args.command == "generate":
        return _check(root) if args.check else _generate(root)
    return _compat(root, args.ref)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="driftloop-contracts", description="driftloop's event contracts."
    )
    parser.add_argument(
        "--root", type=Path, default=CONTRACTS_ROOT, help="the contracts/ directory"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser(
        "generate", help="write the JSON Schemas, asyncapi.yaml and README blocks"
    )
    generate.add_argument("--check", action="store_true", help="only report stale files")
    compat = commands.add_parser(
        "compat", help="check the current models against the published schemas"
    )
    compat.add_argument(
        "--ref", help="read published schemas from this git revision instead of the working tree"
    )
    return parser


def _check(root: Path) -> int:
    stale = stale_files(root)
    for path in stale:
        print(f"stale: {_shown(path, root)}")
    if stale:
        print("contracts are out of date: run `make schemas` (driftloop-contracts generate)")
        return 1
    print("contracts are up to date")
    return 0


def _generate(root: Path) -> int:
    if breaking := overwrites_breaking(root):
        for path, changes in breaking.items():
            for change in changes:
                print(f"{_shown(path, root)}: {change}")
        print(f"refusing to overwrite published schemas with breaking changes. {_NEW_MAJOR}")
        return 1
    written = write_files(root)
    for path in written:
        print(f"wrote {_shown(path, root)}")
    if not written:
        print("contracts are up to date: nothing to write")
    return 0


def _compat(root: Path, ref: str | None) -> int:
    if ref is not None:
        _verify_ref(root, ref)
    found = 0
    for model in EVENTS.values():
        name = schema_filename(model)
        published = _published(root, name, ref)
        if published is None:
            print(f"{name}: not published yet (a new contract): nothing to check")
            continue
        for change in breaking_changes(published, event_schema(model)):
            print(f"{name}: breaking change: {change}")
            found += 1
    if found:
        print(f"{found} breaking change(s) against the published schemas. {_NEW_MAJOR}")
        return 1
    print("all contracts are compatible with their published schemas")
    return 0


def _published(root: Path, name: str, ref: str | None) -> dict[str, Any] | None:
    if ref is None:
        path = root / "schemas" / name
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    shown = _git(root, "show", f"{ref}:./schemas/{name}")
    return None if shown is None else json.loads(shown)


def _verify_ref(root: Path, ref: str) -> None:
    if _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}") is None:
        raise SystemExit(f"error: unknown git revision {ref!r}")


def _git(root: Path, *args: str) -> str | None:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else None


def _shown(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
