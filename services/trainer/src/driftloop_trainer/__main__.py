"""``python -m driftloop_trainer``: run the trainer until SIGTERM."""

from __future__ import annotations

import uvicorn

from driftloop_trainer.config import TrainerSettings
from driftloop_trainer.main import create_app


def main() -> None:
    """Serve health, stats and runs; SIGTERM gives the run in hand its graceful timeout."""
    settings = TrainerSettings()
    uvicorn.run(
        create_app(settings), host=settings.http_host, port=settings.http_port, log_level="info"
    )


if __name__ == "__main__":
    main()
