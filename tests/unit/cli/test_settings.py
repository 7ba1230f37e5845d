"""Where the CLI's settings come from: options, then the environment, then local.env."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftloop_cli.settings import LOCAL_ENV_FILE, CliSettings

pytestmark = pytest.mark.unit


def write_local_env(directory: Path, text: str) -> None:
    path = directory / LOCAL_ENV_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_without_anything_it_points_at_the_default_port_with_no_token() -> None:
    settings = CliSettings()
    assert settings.registry_url == "http://127.0.0.1:8410"
    assert settings.token_value is None


def test_local_env_is_read_and_its_other_keys_ignored(isolated: Path) -> None:
    write_local_env(
        isolated,
        "DRIFTLOOP_KAFKA_BOOTSTRAP=127.0.0.1:41871\n"
        "DRIFTLOOP_MONGO_URI=mongodb://127.0.0.1:38143\n"
        "DRIFTLOOP_REGISTRY_URL=http://127.0.0.1:45000\n"
        "DRIFTLOOP_TOKEN=local-approver-token\n"
        "DRIFTLOOP_SCORER_URL=http://127.0.0.1:45001\n",
    )
    settings = CliSettings()
    assert settings.registry_url == "http://127.0.0.1:45000"
    assert settings.token_value == "local-approver-token"


def test_the_environment_wins_over_local_env_and_options_over_both(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_local_env(isolated, "DRIFTLOOP_REGISTRY_URL=http://file\nDRIFTLOOP_TOKEN=from-file\n")
    monkeypatch.setenv("DRIFTLOOP_REGISTRY_URL", "http://environment")

    assert CliSettings().registry_url == "http://environment"
    assert CliSettings().token_value == "from-file"
    assert CliSettings(registry_url="http://option").registry_url == "http://option"


def test_an_empty_token_counts_as_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTLOOP_TOKEN", "")
    assert CliSettings().token_value is None


def test_the_token_is_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTLOOP_TOKEN", "very-secret-token")
    assert "very-secret-token" not in repr(CliSettings())
