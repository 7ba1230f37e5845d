"""Settings every driftloop service shares, read from ``DRIFTLOOP_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["RuntimeSettings"]


class RuntimeSettings(BaseSettings):
    """Connection, batching and telemetry settings of a driftloop process.

    Each service subclasses this with its own fields; all of them read the ``DRIFTLOOP_`` prefix,
    so ``DRIFTLOOP_KAFKA_BOOTSTRAP`` and ``DRIFTLOOP_MONGO_URI`` point every process at the same
    broker and store. Unknown keys passed explicitly are rejected.
    """

    model_config = SettingsConfigDict(env_prefix="DRIFTLOOP_", extra="forbid", frozen=True)

    kafka_bootstrap: str = Field(
        "127.0.0.1:9092", description="Kafka bootstrap servers, comma-separated host:port."
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="How clients talk to Kafka."
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        "PLAIN", description="SASL mechanism when the protocol is SASL_*."
    )
    kafka_sasl_username: str | None = Field(None, description="SASL user name.")
    kafka_sasl_password: SecretStr | None = Field(None, description="SASL password.")
    kafka_ssl_cafile: Path | None = Field(None, description="CA bundle that signed the brokers.")
    kafka_max_records: int = Field(
        500, ge=1, le=100_000, description="Most records a consumer hands to one batch."
    )
    kafka_fetch_timeout_ms: int = Field(
        50, ge=1, le=60_000, description="How long a batch fetch waits for records."
    )
    kafka_fetch_max_wait_ms: int = Field(
        20,
        ge=1,
        le=60_000,
        description="How long the broker holds a fetch that has no new records. A caught-up "
        "consumer waits this long for the next ones, so it bounds the latency of each hop; "
        "aiokafka's 500 ms default put ~200 ms on every hop.",
    )
    kafka_control_fetch_max_wait_ms: int = Field(
        100,
        ge=1,
        le=60_000,
        description="How long the broker holds an empty fetch of a control topic (specs, the "
        "model lifecycle, drift alarms, trainings, training requests). Every service follows "
        "a few of these low-volume topics, each with a consumer of its own: polling them as "
        "often as the hot path kept the broker busy while nothing flowed; a swap or a "
        "training starts at most this much later.",
    )
    kafka_background_fetch_max_wait_ms: int = Field(
        500,
        ge=1,
        le=60_000,
        description="The same for consumers no prediction waits on (the monitor's inputs, the "
        "offline-store writers): they poll the broker least.",
    )
    trace_sample_ratio: float = Field(
        1.0,
        ge=0.0,
        le=1.0,
        description="Share of new traces recorded: each consumed batch starts one (traces "
        "started elsewhere follow their parent's decision). Every event carries its trace "
        "context either way.",
    )
    kafka_linger_ms: int = Field(
        5, ge=0, le=1_000, description="How long the producer waits to fill a batch."
    )
    kafka_max_batch_bytes: int = Field(
        256 * 1024, ge=16 * 1024, description="Producer batch size per partition, in bytes."
    )
    graceful_timeout_s: float = Field(
        30.0, gt=0, description="How long shutdown waits for the batch in hand."
    )
    transient_error_backoff_s: float = Field(
        1.0, ge=0, description="Pause before a batch that hit an infrastructure error is retried."
    )

    mongo_uri: SecretStr = Field(
        SecretStr("mongodb://127.0.0.1:27017"), description="MongoDB connection string."
    )
    mongo_database: str = Field("driftloop", description="Database that holds driftloop's data.")

    otlp_endpoint: str | None = Field(
        None, description="OTLP/HTTP collector URL; when unset, spans go to the traces file."
    )
    traces_file: Path = Field(
        Path(".driftloop/traces.jsonl"), description="JSON-lines span file used without OTLP."
    )
