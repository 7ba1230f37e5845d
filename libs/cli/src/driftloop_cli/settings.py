"""Where the CLI finds the registry: ``DRIFTLOOP_*`` variables, then ``.driftloop/local.env``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from driftloop_runtime import RuntimeSettings

__all__ = ["LOCAL_ENV_FILE", "CliKafkaSettings", "CliSettings"]

LOCAL_ENV_FILE = Path(".driftloop/local.env")
"""What ``driftloop local up`` writes (relative to the working directory)."""


class CliSettings(BaseSettings):
    """How the ``driftloop`` command reaches the registry.

    Read from ``DRIFTLOOP_REGISTRY_URL``, ``DRIFTLOOP_TOKEN`` and
    ``DRIFTLOOP_REGISTRY_TIMEOUT_S``; where a variable is unset, from ``.driftloop/local.env``
    if that file exists, so the commands work right after ``make local-up``. Values passed to
    the constructor (the ``--registry-url`` and ``--token`` options) win over both. The file
    also holds settings of other processes (Kafka, MongoDB); those are ignored here.
    """

    model_config = SettingsConfigDict(
        env_prefix="DRIFTLOOP_",
        env_file=LOCAL_ENV_FILE,
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    registry_url: str = Field(
        "http://127.0.0.1:8410", min_length=1, description="Base URL of the registry's REST API."
    )
    token: SecretStr | None = Field(
        None, description="Bearer token: a viewer's reads, an approver's also changes."
    )
    registry_timeout_s: float = Field(
        10.0, gt=0, le=600, description="How long one HTTP call to the registry may take."
    )

    @property
    def token_value(self) -> str | None:
        """The token in clear, or ``None`` when unset or empty."""
        return (self.token.get_secret_value() or None) if self.token else None


class CliKafkaSettings(RuntimeSettings):
    """How the ``driftloop`` command reaches Kafka (the ``deadletters`` commands).

    The services' ``DRIFTLOOP_KAFKA_*`` variables (bootstrap servers, SASL/TLS); where one is
    unset, ``.driftloop/local.env`` if that file exists, like ``CliSettings``.
    """

    model_config = SettingsConfigDict(
        env_prefix="DRIFTLOOP_",
        env_file=LOCAL_ENV_FILE,
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )
