"""Paths and loaders shared by the infra checks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "COMPOSE_FILE",
    "INFRA",
    "K8S",
    "REPO",
    "SERVICES",
    "dockerfile_args",
    "dockerfile_instructions",
    "expand_args",
    "load_yaml",
    "service_dockerfiles",
    "yaml_documents",
]

REPO = Path(__file__).resolve().parents[3]
COMPOSE_FILE = REPO / "docker-compose.yml"
INFRA = REPO / "infra"
K8S = INFRA / "k8s"
SERVICES = REPO / "services"


def load_yaml(path: Path) -> Any:
    """One YAML document, anchors and merge keys resolved."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def yaml_documents(path: Path) -> list[dict[str, Any]]:
    """Every non-empty document of a multi-document YAML file."""
    docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    assert all(isinstance(d, dict) for d in docs), path
    return docs


def service_dockerfiles() -> dict[str, Path]:
    """services/<name>/Dockerfile by service name: the services that ship an image."""
    return {p.parent.name: p for p in sorted(SERVICES.glob("*/Dockerfile"))}


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    lines = [line.strip() for line in re.sub(r"\\\n", " ", text).splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def dockerfile_args(instructions: list[tuple[str, str]]) -> dict[str, str]:
    """The build arguments declared with a default (`ARG NAME=value`)."""
    found = {}
    for op, arg in instructions:
        if op == "ARG" and "=" in arg:
            name, value = arg.split("=", 1)
            found[name.strip()] = value.strip()
    return found


def expand_args(value: str, args: dict[str, str]) -> str:
    """``value`` with ``${NAME}`` and ``$NAME`` of the known build arguments replaced."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return args.get(name, match.group(0))

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", replace, value)
