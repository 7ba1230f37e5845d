"""``python -m driftloop_scorer``: run the scorer until SIGTERM."""

from __future__ import annotations

from driftloop_runtime import serve_http
from driftloop_scorer.config import ScorerSettings
from driftloop_scorer.main import create_app


def main() -> None:
    """Serve predict, models and stats; the consumers stop after the batch in hand on SIGTERM."""
    serve_http(create_app, ScorerSettings())


if __name__ == "__main__":
    main()
