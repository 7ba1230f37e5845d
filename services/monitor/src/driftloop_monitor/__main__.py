"""``python -m driftloop_monitor``: run the monitor until SIGTERM."""

from __future__ import annotations

from driftloop_monitor.config import MonitorSettings
from driftloop_monitor.main import create_app
from driftloop_runtime import serve_http


def main() -> None:
    """Serve health, stats and monitors; on SIGTERM the loop finishes its batch, publishes and
    writes its last checkpoint."""
    serve_http(create_app, MonitorSettings())


if __name__ == "__main__":
    main()
