"""The MongoDB client factory against the real embedded document store."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from driftloop_runtime import RuntimeSettings, create_mongo_client, open_database
from tests.integration.kafka_helpers import unique

pytestmark = pytest.mark.integration


async def test_writes_and_reads_with_unique_indexes_in_place(infra: dict[str, str]) -> None:
    settings = RuntimeSettings(
        mongo_uri=infra["DRIFTLOOP_MONGO_URI"], mongo_database=unique("runtime")
    )
    plan = {
        "model_versions": [
            IndexModel(
                [("name", ASCENDING), ("version", ASCENDING)], unique=True, name="name_version"
            )
        ]
    }
    client = create_mongo_client(settings, appname="test")
    try:
        database = await open_database(client, settings, plan)
        await open_database(client, settings, plan)  # creating the indexes again is harmless
        versions = database["model_versions"]
        created = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
        await versions.insert_one({"name": "fraud", "version": 1, "created_at": created})
        with pytest.raises(DuplicateKeyError):
            await versions.insert_one({"name": "fraud", "version": 1})
        await versions.insert_one({"name": "fraud", "version": 2})

        found = await versions.find_one({"name": "fraud", "version": 1})
        assert found is not None
        assert found["created_at"] == created  # timezone-aware on the way back
        assert await versions.count_documents({"name": "fraud"}) == 2
        index_names = [index["name"] async for index in await versions.list_indexes()]
        assert "name_version" in index_names
    finally:
        await client.drop_database(settings.mongo_database)
        await client.close()
