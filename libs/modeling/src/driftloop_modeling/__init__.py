"""Model math shared by the trainer, the scorer and the monitor (pure: no I/O)."""

from __future__ import annotations

__all__: list[str] = []
