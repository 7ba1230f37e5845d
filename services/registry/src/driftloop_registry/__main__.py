"""``python -m driftloop_registry``: serve the registry until SIGTERM."""

from __future__ import annotations

import uvicorn

from driftloop_registry.config import RegistrySettings
from driftloop_registry.main import create_app


def main() -> None:
    """Run the API and the consumer; SIGTERM stops both after the batch in hand."""
    settings = RegistrySettings()
    uvicorn.run(
        create_app(settings), host=settings.http_host, port=settings.http_port, log_level="info"
    )


if __name__ == "__main__":
    main()
