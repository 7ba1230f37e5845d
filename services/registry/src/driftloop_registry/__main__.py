"""``python -m driftloop_registry``: serve the registry until SIGTERM."""

from __future__ import annotations

from driftloop_registry.config import RegistrySettings
from driftloop_registry.main import create_app
from driftloop_runtime import serve_http


def main() -> None:
    """Run the API and the consumer; SIGTERM stops both after the batch in hand."""
    serve_http(create_app, RegistrySettings())


if __name__ == "__main__":
    main()
