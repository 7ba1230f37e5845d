"""The embedded default: a Kafka-protocol broker, a MongoDB-wire store and the services."""

from __future__ import annotations

from driftloop_cli.local.stack import LocalStack, ProcessInfo

__all__ = ["LocalStack", "ProcessInfo"]
