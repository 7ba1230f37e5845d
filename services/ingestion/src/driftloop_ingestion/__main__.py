"""``python -m driftloop_ingestion``: serve ingestion until SIGTERM."""

from __future__ import annotations

import logging

import uvicorn

from driftloop_ingestion.config import IngestionSettings
from driftloop_ingestion.main import create_app


def main() -> None:
    """Run the API and the consumers; SIGTERM stops both after the batch in hand."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = IngestionSettings()
    uvicorn.run(
        create_app(settings), host=settings.http_host, port=settings.http_port, log_level="info"
    )


if __name__ == "__main__":
    main()
