"""Which code trained a model: recorded on every run."""

from __future__ import annotations

import subprocess
from importlib.metadata import version
from pathlib import Path

__all__ = ["code_version"]


def code_version() -> str:
    """The package version, with the git commit when running from a checkout
    (``0.1.0+g1a2b3c4d5e6f``); an image without git says the package version only."""
    package = version("driftloop-trainer")
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return package
    return f"{package}+g{commit}" if commit else package
