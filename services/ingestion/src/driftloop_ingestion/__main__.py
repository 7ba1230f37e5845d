"""``python -m driftloop_ingestion``: serve ingestion until SIGTERM."""

from __future__ import annotations

import logging

from driftloop_ingestion.config import IngestionSettings
from driftloop_ingestion.main import create_app
from driftloop_runtime import serve_http


def main() -> None:
    """Run the API and the consumers; SIGTERM stops both after the batch in hand."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    serve_http(create_app, IngestionSettings())


if __name__ == "__main__":
    main()
