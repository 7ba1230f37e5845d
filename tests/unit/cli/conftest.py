"""Fixtures of the CLI tests: a clean working directory and environment, a fake registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.cli.fakes import FakeRegistry


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Run in an empty directory (no .driftloop/local.env) without DRIFTLOOP_* variables."""
    monkeypatch.chdir(tmp_path)
    for name in ("DRIFTLOOP_REGISTRY_URL", "DRIFTLOOP_TOKEN", "DRIFTLOOP_REGISTRY_TIMEOUT_S"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def registry() -> FakeRegistry:
    """A registry API that answers what each test tells it to."""
    return FakeRegistry()
