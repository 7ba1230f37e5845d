"""``python -m driftloop_feature``: run the feature service until SIGTERM."""

from __future__ import annotations

import uvicorn

from driftloop_feature.config import FeatureSettings
from driftloop_feature.main import create_app


def main() -> None:
    """Serve health and stats; the consumers stop after the batch in hand on SIGTERM."""
    settings = FeatureSettings()
    uvicorn.run(
        create_app(settings), host=settings.http_host, port=settings.http_port, log_level="info"
    )


if __name__ == "__main__":
    main()
