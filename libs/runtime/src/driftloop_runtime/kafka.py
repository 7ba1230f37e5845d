"""The Kafka broker every service uses: batching producer, telemetry, explicit delivery settings."""

from __future__ import annotations

import ssl
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from driftloop_runtime.settings import RuntimeSettings

__all__ = [
    "AiokafkaExtensionMissingError",
    "client_options",
    "create_broker",
    "kafka_security",
    "require_aiokafka_extension",
]


class AiokafkaExtensionMissingError(RuntimeError):
    """aiokafka runs on its pure-Python record code, several times slower than its C extension."""


def require_aiokafka_extension() -> None:
    """Fail loudly unless aiokafka encodes and decodes records with its C extension."""
    from aiokafka.record import default_records

    module = default_records.DefaultRecordBatchBuilder.__module__
    if "_crecords" not in module:
        raise AiokafkaExtensionMissingError(
            f"aiokafka is using its pure-Python record code ({module}); install a wheel with the "
            "C extension and unset AIOKAFKA_NO_EXTENSIONS"
        )


def create_broker(settings: RuntimeSettings, *, client_id: str) -> KafkaBroker:
    """Build a FastStream Kafka broker for a driftloop process.

    The producer batches (linger, batch bytes) and waits for all in-sync replicas; topics are
    never auto-created (the topic registry creates them); stopping waits up to
    ``graceful_timeout_s`` for the batch in hand. Consumption is traced by driftloop itself,
    per batch (``telemetry.consume_span``), not by FastStream's per-message middleware.
    """
    require_aiokafka_extension()
    return KafkaBroker(
        settings.kafka_bootstrap,
        client_id=client_id,
        acks="all",
        linger_ms=settings.kafka_linger_ms,
        max_batch_size=settings.kafka_max_batch_bytes,
        # Tansu answers InitProducerId with an error; delivery is at-least-once with
        # idempotent consumers instead.
        enable_idempotence=False,
        allow_auto_create_topics=False,
        graceful_timeout=settings.graceful_timeout_s,
        security=kafka_security(settings),
    )


def client_options(settings: RuntimeSettings) -> dict[str, Any]:
    """Keyword arguments for a plain aiokafka client (admin, producer, consumer) with the same
    bootstrap servers and security as the services' broker."""
    return {
        "bootstrap_servers": settings.kafka_bootstrap,
        **parse_security(kafka_security(settings)),
    }


def kafka_security(settings: RuntimeSettings) -> BaseSecurity | None:
    """The FastStream security object for the configured protocol, or ``None`` for PLAINTEXT."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile)
    if protocol == "SSL":
        return BaseSecurity(ssl_context=context, use_ssl=True)
    if settings.kafka_sasl_username is None or settings.kafka_sasl_password is None:
        raise ValueError(f"{protocol} needs DRIFTLOOP_KAFKA_SASL_USERNAME and _PASSWORD")
    sasl = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}
    return sasl[settings.kafka_sasl_mechanism](
        settings.kafka_sasl_username,
        settings.kafka_sasl_password.get_secret_value(),
        ssl_context=context if protocol == "SASL_SSL" else None,
        use_ssl=protocol == "SASL_SSL",
    )
