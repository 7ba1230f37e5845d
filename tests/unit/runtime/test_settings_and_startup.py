from __future__ import annotations

import json
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from pydantic import ValidationError

from driftloop_runtime import (
    AiokafkaExtensionMissingError,
    JsonLinesSpanExporter,
    RuntimeSettings,
    require_aiokafka_extension,
    traced,
)
from driftloop_runtime.kafka import kafka_security

pytestmark = pytest.mark.unit


def test_settings_come_from_driftloop_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DRIFTLOOP_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    monkeypatch.setenv("DRIFTLOOP_MONGO_URI", "mongodb://u:secret@127.0.0.1:27018")
    settings = RuntimeSettings()
    assert settings.kafka_bootstrap == "127.0.0.1:19092"
    assert settings.mongo_uri.get_secret_value().endswith("127.0.0.1:27018")
    assert "secret" not in repr(settings)


def test_unknown_and_out_of_range_settings_are_rejected() -> None:
    with pytest.raises(ValidationError, match="kafka_bootstap"):
        RuntimeSettings(kafka_bootstap="x")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="kafka_max_records"):
        RuntimeSettings(kafka_max_records=0)


def test_sasl_needs_credentials_and_plaintext_needs_none() -> None:
    assert kafka_security(RuntimeSettings()) is None
    with pytest.raises(ValueError, match="SASL_USERNAME"):
        kafka_security(RuntimeSettings(kafka_security_protocol="SASL_PLAINTEXT"))
    security = kafka_security(
        RuntimeSettings(
            kafka_security_protocol="SASL_PLAINTEXT",
            kafka_sasl_mechanism="SCRAM-SHA-256",
            kafka_sasl_username="svc",
            kafka_sasl_password="pw",
        )
    )
    assert type(security).__name__ == "SASLScram256"


def test_aiokafka_c_extension_is_in_use_here() -> None:
    require_aiokafka_extension()


def test_startup_fails_loudly_on_pure_python_aiokafka(monkeypatch: pytest.MonkeyPatch) -> None:
    from aiokafka.record import default_records

    monkeypatch.setattr(
        default_records, "DefaultRecordBatchBuilder", default_records._DefaultRecordBatchBuilderPy
    )
    with pytest.raises(AiokafkaExtensionMissingError, match="pure-Python"):
        require_aiokafka_extension()


def test_spans_go_to_a_json_lines_file_without_a_collector(tmp_path: Path) -> None:
    path = tmp_path / "traces" / "svc.jsonl"
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(path)))
    tracer = provider.get_tracer("test")
    with (
        tracer.start_as_current_span("train") as parent,
        tracer.start_as_current_span("fit") as fit,
    ):
        fit.set_attribute("messaging.kafka.message.key", b"card-1")
        trace_id = parent.get_span_context().trace_id
    provider.shutdown()
    spans = [json.loads(line) for line in path.read_text().splitlines()]
    assert [s["name"] for s in spans] == ["fit", "train"]
    assert {s["trace_id"] for s in spans} == {f"{trace_id:032x}"}
    assert spans[0]["parent_span_id"] == spans[1]["span_id"]
    assert spans[0]["attributes"]["messaging.kafka.message.key"] == "card-1"


async def test_a_traced_domain_step_gets_its_own_child_span(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "steps.jsonl"
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(path)))
    tracer = provider.get_tracer("test")
    monkeypatch.setattr(trace, "get_tracer", lambda *_args, **_kwargs: tracer)

    @traced("registry.promote")
    async def promote(version: int) -> int:
        return version + 1

    with tracer.start_as_current_span("http request"):
        assert await promote(7) == 8
    provider.shutdown()
    spans = {s["name"]: s for s in map(json.loads, path.read_text().splitlines())}
    assert spans["registry.promote"]["parent_span_id"] == spans["http request"]["span_id"]


def test_sampling_records_a_share_of_new_traces_and_follows_upstream_decisions(
    tmp_path: Path,
) -> None:
    from opentelemetry import propagate

    from driftloop_runtime import setup_telemetry

    path = tmp_path / "sampled.jsonl"
    provider = setup_telemetry("svc", RuntimeSettings(trace_sample_ratio=0.0, traces_file=path))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("new trace") as root:
        assert not root.is_recording()
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
    flags = int(carrier["traceparent"].rsplit("-", 1)[1], 16)
    assert flags & 1 == 0  # the context travels on, marked not sampled
    upstream = propagate.extract(
        {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
    )
    with tracer.start_as_current_span("continued", context=upstream) as child:
        assert child.is_recording()
    provider.shutdown()
    assert [json.loads(line)["name"] for line in path.read_text().splitlines()] == ["continued"]
