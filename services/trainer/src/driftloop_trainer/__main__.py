"""``python -m driftloop_trainer``: run the trainer until SIGTERM."""

from __future__ import annotations

from driftloop_runtime import serve_http
from driftloop_trainer.config import TrainerSettings
from driftloop_trainer.main import create_app


def main() -> None:
    """Serve health, stats and runs; SIGTERM gives the run in hand its graceful timeout."""
    serve_http(create_app, TrainerSettings())


if __name__ == "__main__":
    main()
