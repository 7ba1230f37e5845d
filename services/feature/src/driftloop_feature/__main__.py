"""``python -m driftloop_feature``: run the feature service until SIGTERM."""

from __future__ import annotations

from driftloop_feature.config import FeatureSettings
from driftloop_feature.main import create_app
from driftloop_runtime import serve_http


def main() -> None:
    """Serve health and stats; the consumers stop after the batch in hand on SIGTERM."""
    serve_http(create_app, FeatureSettings())


if __name__ == "__main__":
    main()
