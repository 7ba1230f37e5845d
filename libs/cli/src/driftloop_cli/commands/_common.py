"""What every registry command shares: its options, the client it talks through, failing."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, Any, NoReturn, TypeVar

import httpx
import typer
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from driftloop_cli.registry_client import RegistryClient, RegistryClientError
from driftloop_cli.render import to_json
from driftloop_cli.settings import CliKafkaSettings, CliSettings

__all__ = [
    "EXIT_FAILED",
    "EXIT_INVALID",
    "AliasOption",
    "JsonOption",
    "RegistryUrlOption",
    "ServingAlias",
    "TokenOption",
    "fail",
    "kafka_settings",
    "on_kafka",
    "print_json",
    "registry",
]

T = TypeVar("T")

EXIT_FAILED = 1
"""The registry refused the request, or could not be reached."""
EXIT_INVALID = 2
"""The input was wrong before anything was sent: a bad spec file, missing settings."""

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the registry's JSON answer instead of a table.")
]
RegistryUrlOption = Annotated[
    str | None,
    typer.Option(
        "--registry-url",
        help="The registry's base URL (default: DRIFTLOOP_REGISTRY_URL, then "
        ".driftloop/local.env, then http://127.0.0.1:8410).",
        show_default=False,
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        help="Bearer token (default: DRIFTLOOP_TOKEN, then .driftloop/local.env).",
        show_default=False,
    ),
]


class ServingAlias(StrEnum):
    """The aliases the scorer serves."""

    champion = "champion"
    shadow = "shadow"


AliasOption = Annotated[ServingAlias, typer.Option("--alias", help="The serving alias.")]


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Print ``message`` on stderr and end the command with exit status ``code``."""
    typer.echo(message, err=True)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    """Print ``data`` as JSON on stdout."""
    typer.echo(to_json(data))


@contextmanager
def registry(
    ctx: typer.Context, registry_url: str | None, token: str | None
) -> Iterator[RegistryClient]:
    """A client configured from the settings and options; its failures end the command.

    ``ctx.obj`` may hold an ``httpx.BaseTransport`` to use instead of the network (tests pass
    ``obj=httpx.MockTransport(...)`` to ``CliRunner.invoke``).
    """
    settings = _settings(registry_url, token)
    if settings.token_value is None:
        fail(
            "no registry token: set DRIFTLOOP_TOKEN or pass --token "
            "(`driftloop local up` writes a local one to .driftloop/local.env)",
            EXIT_INVALID,
        )
    transport = ctx.obj if isinstance(ctx.obj, httpx.BaseTransport) else None
    client = RegistryClient(
        settings.registry_url,
        settings.token_value,
        timeout_s=settings.registry_timeout_s,
        transport=transport,
    )
    with client:
        try:
            yield client
        except RegistryClientError as error:
            fail(str(error))


def _settings(registry_url: str | None, token: str | None) -> CliSettings:
    overrides: dict[str, Any] = {}
    if registry_url is not None:
        overrides["registry_url"] = registry_url
    if token is not None:
        overrides["token"] = token
    try:
        return CliSettings(**overrides)
    except ValidationError as error:
        _invalid_settings(error)


def kafka_settings() -> CliKafkaSettings:
    """How to reach Kafka (``DRIFTLOOP_KAFKA_*``, then ``.driftloop/local.env``); invalid
    settings end the command."""
    try:
        return CliKafkaSettings()
    except ValidationError as error:
        _invalid_settings(error)


def on_kafka(settings: CliKafkaSettings, work: Coroutine[Any, Any, T]) -> T:
    """Run ``work``; an unreachable broker ends the command with a message."""
    try:
        return asyncio.run(work)
    except (KafkaError, OSError) as error:
        fail(f"cannot reach Kafka at {settings.kafka_bootstrap}: {error}")


def _invalid_settings(error: ValidationError) -> NoReturn:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
    )
    fail(f"invalid driftloop settings: {problems}", EXIT_INVALID)
