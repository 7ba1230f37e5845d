"""``python -m driftloop_scorer``: run the scorer until SIGTERM."""

from __future__ import annotations

import uvicorn

from driftloop_scorer.config import ScorerSettings
from driftloop_scorer.main import create_app


def main() -> None:
    """Serve predict, models and stats; the consumers stop after the batch in hand on SIGTERM."""
    settings = ScorerSettings()
    uvicorn.run(
        create_app(settings), host=settings.http_host, port=settings.http_port, log_level="info"
    )


if __name__ == "__main__":
    main()
