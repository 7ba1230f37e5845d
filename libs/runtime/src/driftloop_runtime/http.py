"""What every service with an HTTP API shares: where it listens, and running it until SIGTERM."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import Field

from driftloop_runtime.settings import RuntimeSettings

__all__ = ["HttpServiceSettings", "serve_http"]


class HttpServiceSettings(RuntimeSettings):
    """Settings of a service that serves HTTP (health at least): ``DRIFTLOOP_HTTP_HOST`` and
    ``DRIFTLOOP_HTTP_PORT``. Each service overrides ``http_port`` with its own default."""

    http_host: str = Field("127.0.0.1", description="Address the HTTP API listens on.")
    http_port: int = Field(8400, ge=1, le=65535, description="Port of the HTTP API.")


S = TypeVar("S", bound=HttpServiceSettings)


def serve_http(create_app: Callable[[S], Any], settings: S) -> None:
    """Serve ``create_app(settings)`` (an ASGI app whose lifespan runs the service's consumers)
    with uvicorn until SIGTERM; the consumers stop after the batch in hand.

    Args:
        create_app: The service's composition root.
        settings: Its settings, read from the environment by the caller.
    """
    import uvicorn  # only the processes that serve import the server

    uvicorn.run(
        create_app(settings), host=settings.http_host, port=settings.http_port, log_level="info"
    )
