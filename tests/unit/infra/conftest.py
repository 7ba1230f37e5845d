"""Fixtures for the checks on docker-compose.yml and infra/: the parsed files."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.infra._files import COMPOSE_FILE, load_yaml


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    data = load_yaml(COMPOSE_FILE)
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="session")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = compose["services"]
    assert isinstance(found, dict)
    return found


@pytest.fixture(scope="session")
def driftloop_env(compose: dict[str, Any]) -> dict[str, str]:
    """The environment every driftloop service shares (`x-driftloop-service`)."""
    env = compose["x-driftloop-service"]["environment"]
    assert isinstance(env, dict)
    return env
