"""Paths and loaders shared by the infra checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["COMPOSE_FILE", "INFRA", "REPO", "load_yaml"]

REPO = Path(__file__).resolve().parents[3]
COMPOSE_FILE = REPO / "docker-compose.yml"
INFRA = REPO / "infra"


def load_yaml(path: Path) -> Any:
    """One YAML document, anchors and merge keys resolved."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))
