"""The monitor's checkpoints in MongoDB: its state and input positions, saved together.

A checkpoint can outgrow MongoDB's 16 MiB document limit (the label join buffer holds up to
``max_pending`` predictions per dataset), so it is a GridFS blob (BSON, zlib-compressed) and a
small pointer document names the blob in use. A new blob is written first, then the pointer is
replaced (one document: atomic), then blobs older than the newest ``keep`` are deleted. A crash
at any step leaves the pointer on a complete blob; blobs nobody points at are deleted on the
next save.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import bson
from bson.codec_options import CodecOptions
from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from pymongo.asynchronous.database import AsyncDatabase

__all__ = ["CheckpointStore"]

logger = logging.getLogger(__name__)

POINTERS = "monitor_checkpoints"
BUCKET = "monitor_checkpoints"
_CODEC: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True, tzinfo=UTC)


class CheckpointStore:
    """Saves and loads the checkpoint of the monitor named ``name`` in ``database``."""

    def __init__(
        self, database: AsyncDatabase[dict[str, Any]], *, name: str = "monitor", keep: int = 2
    ) -> None:
        self._pointers = database[POINTERS]
        self._bucket = AsyncGridFSBucket(database, bucket_name=BUCKET)
        self._name = name
        self._keep = keep
        self._sequence = 0
        self.saved = 0
        self.last_saved_at: datetime | None = None
        self.last_bytes = 0

    async def load(self) -> dict[str, Any] | None:
        """The checkpoint in use, or ``None`` before the first save."""
        pointer = await self._pointers.find_one({"_id": self._name})
        if pointer is None:
            return None
        self._sequence = int(pointer["sequence"])
        try:
            stream = await self._bucket.open_download_stream(pointer["blob"])
        except NoFile as error:
            # the pointer is replaced only after its blob is complete: someone deleted it
            message = f"checkpoint blob {pointer['blob']} of {self._name} is gone"
            raise RuntimeError(message) from error
        data = await stream.read()
        return await asyncio.to_thread(_decode, data)

    async def save(self, document: Mapping[str, Any]) -> None:
        """Write ``document`` as the checkpoint in use. Encoding runs in a thread: the caller
        does not touch the state until this returns."""
        data = await asyncio.to_thread(_encode, document)
        self._sequence += 1
        blob = await self._bucket.upload_from_stream(
            f"{self._name}-{self._sequence}",
            data,
            metadata={"monitor": self._name, "sequence": self._sequence},
        )
        now = datetime.now(UTC)
        await self._pointers.replace_one(
            {"_id": self._name},
            {"blob": blob, "sequence": self._sequence, "bytes": len(data), "saved_at": now},
            upsert=True,
        )
        await self._prune()
        self.saved, self.last_saved_at, self.last_bytes = self.saved + 1, now, len(data)

    async def _prune(self) -> None:
        floor = self._sequence - self._keep
        cursor = self._bucket.find(
            {"metadata.monitor": self._name, "metadata.sequence": {"$lte": floor}}
        )
        async for old in cursor:
            with contextlib.suppress(NoFile):  # deleted meanwhile: what we wanted
                await self._bucket.delete(old._id)


def _encode(document: Mapping[str, Any]) -> bytes:
    return zlib.compress(bson.encode(document), 1)


def _decode(data: bytes) -> dict[str, Any]:
    decoded: dict[str, Any] = bson.decode(zlib.decompress(data), codec_options=_CODEC)
    return decoded
