"""The runtime every driftloop service stands on.

Settings (``DRIFTLOOP_*``), the Kafka broker factory, at-least-once batch delivery with dead
letters, bounded de-duplication, the specs and model versions in force, MongoDB through
PyMongo's async client, and telemetry.
"""

from __future__ import annotations

from driftloop_runtime.broadcast import (
    read_at,
    read_partitions,
    read_topic,
    replay_partitions,
    scan_topic,
    subscribe_broadcast,
)
from driftloop_runtime.building import construct
from driftloop_runtime.dedup import Deduplicator
from driftloop_runtime.delivery import (
    TRANSIENT_ERRORS,
    BatchHandler,
    BatchPipeline,
    PartitionHooks,
    one_by_one,
    parse_records,
    subscribe_batches,
)
from driftloop_runtime.http import HttpServiceSettings, serve_http
from driftloop_runtime.kafka import (
    AiokafkaExtensionMissingError,
    create_broker,
    require_aiokafka_extension,
)
from driftloop_runtime.models import (
    LifecycleEvent,
    ModelCatalog,
    ServedVersion,
    ServingAlias,
    ServingChange,
    follow_models,
)
from driftloop_runtime.mongo import create_mongo_client, ensure_indexes, open_database
from driftloop_runtime.publishing import (
    BrokerEventPublisher,
    EventPublisher,
    KafkaEventPublisher,
    dead_letter,
)
from driftloop_runtime.records import BatchResult, Incoming, Outgoing, Rejection, SourceRecord
from driftloop_runtime.service import ServiceParts, build_service, run_service
from driftloop_runtime.settings import RuntimeSettings
from driftloop_runtime.specs import SpecCatalog, follow_specs
from driftloop_runtime.telemetry import JsonLinesSpanExporter, setup_telemetry, traced

__all__ = [
    "TRANSIENT_ERRORS",
    "AiokafkaExtensionMissingError",
    "BatchHandler",
    "BatchPipeline",
    "BatchResult",
    "BrokerEventPublisher",
    "Deduplicator",
    "EventPublisher",
    "HttpServiceSettings",
    "Incoming",
    "JsonLinesSpanExporter",
    "KafkaEventPublisher",
    "LifecycleEvent",
    "ModelCatalog",
    "Outgoing",
    "PartitionHooks",
    "Rejection",
    "RuntimeSettings",
    "ServedVersion",
    "ServiceParts",
    "ServingAlias",
    "ServingChange",
    "SourceRecord",
    "SpecCatalog",
    "build_service",
    "construct",
    "create_broker",
    "create_mongo_client",
    "dead_letter",
    "ensure_indexes",
    "follow_models",
    "follow_specs",
    "one_by_one",
    "open_database",
    "parse_records",
    "read_at",
    "read_partitions",
    "read_topic",
    "replay_partitions",
    "require_aiokafka_extension",
    "run_service",
    "scan_topic",
    "serve_http",
    "setup_telemetry",
    "subscribe_batches",
    "subscribe_broadcast",
    "traced",
]
