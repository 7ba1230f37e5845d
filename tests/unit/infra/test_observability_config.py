"""The collector, Prometheus and Grafana files fit each other and docker-compose.yml."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.unit.infra._files import INFRA, load_yaml

pytestmark = pytest.mark.unit

COLLECTOR = INFRA / "otel" / "collector.yaml"
PROMETHEUS = INFRA / "prometheus" / "prometheus.yml"
GRAFANA = INFRA / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "driftloop-overview.json"


@pytest.fixture(scope="module")
def collector() -> dict[str, Any]:
    data = load_yaml(COLLECTOR)
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    data = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _mount_target(service: dict[str, Any], source: str) -> str:
    targets = [str(v.split(":")[1]) for v in service["volumes"] if v.split(":")[0] == source]
    assert len(targets) == 1, f"{source} is not mounted once"
    return targets[0]


def test_every_pipeline_component_is_defined(collector: dict[str, Any]) -> None:
    service = collector["service"]
    assert set(service["extensions"]) <= set(collector["extensions"])
    assert set(service["pipelines"]) == {"traces", "metrics"}
    for pipeline in service["pipelines"].values():
        for kind in ("receivers", "processors", "exporters"):
            assert set(pipeline[kind]) <= set(collector[kind]), f"unknown {kind} in a pipeline"


def test_collector_receives_otlp_where_the_services_send_it(
    collector: dict[str, Any], services: dict[str, dict[str, Any]], driftloop_env: dict[str, str]
) -> None:
    protocols = collector["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"] == "0.0.0.0:4317"
    assert protocols["http"]["endpoint"] == "0.0.0.0:4318"
    assert driftloop_env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"
    otel = services["otel-collector"]
    config_path = _mount_target(otel, "./infra/otel/collector.yaml")
    assert otel["command"] == [f"--config={config_path}"]


def test_traces_go_to_jaeger_and_lag_comes_from_kafka(
    collector: dict[str, Any], services: dict[str, dict[str, Any]], driftloop_env: dict[str, str]
) -> None:
    assert collector["exporters"]["otlp/jaeger"]["endpoint"] == "jaeger:4317"
    assert "jaeger" in services
    assert collector["service"]["pipelines"]["traces"]["exporters"] == ["otlp/jaeger"]
    brokers = collector["receivers"]["kafkametrics"]["brokers"]
    assert brokers == [driftloop_env["DRIFTLOOP_KAFKA_BOOTSTRAP"]]


def test_prometheus_scrapes_the_collector_exporter(
    collector: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    port = collector["exporters"]["prometheus"]["endpoint"].rsplit(":", 1)[1]
    config = load_yaml(PROMETHEUS)
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    targets = [t for c in jobs["otel-collector"]["static_configs"] for t in c["targets"]]
    assert targets == [f"otel-collector:{port}"]
    assert jobs["otel-collector"]["honor_labels"] is True
    prometheus = services["prometheus"]
    path = _mount_target(prometheus, "./infra/prometheus/prometheus.yml")
    assert f"--config.file={path}" in prometheus["command"]


def test_grafana_provisions_both_datasources_from_compose_services(
    services: dict[str, dict[str, Any]],
) -> None:
    config = load_yaml(GRAFANA / "provisioning" / "datasources" / "datasources.yaml")
    sources = {source["type"]: source for source in config["datasources"]}
    assert set(sources) == {"prometheus", "jaeger"}
    for source in sources.values():
        host = re.fullmatch(r"http://([\w-]+):\d+", source["url"])
        assert host, source["url"]
        assert host.group(1) in services, source["url"]


def test_grafana_loads_the_dashboard_folder_mounted_by_compose(
    services: dict[str, dict[str, Any]],
) -> None:
    grafana = services["grafana"]
    mounted = _mount_target(grafana, "./infra/grafana/dashboards")
    provisioning = _mount_target(grafana, "./infra/grafana/provisioning")
    assert provisioning == "/etc/grafana/provisioning"
    config = load_yaml(GRAFANA / "provisioning" / "dashboards" / "dashboards.yaml")
    assert [p["options"]["path"] for p in config["providers"]] == [mounted]
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == f"{mounted}/{DASHBOARD.name}"


def _exprs(dashboard: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def test_dashboard_panels_are_wired_to_provisioned_datasources(dashboard: dict[str, Any]) -> None:
    config = load_yaml(GRAFANA / "provisioning" / "datasources" / "datasources.yaml")
    uids = {source["uid"] for source in config["datasources"]}
    assert dashboard["title"] == "driftloop overview"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] in uids, panel["title"]
            assert panel["targets"], panel["title"]


def test_dashboard_metrics_are_the_documented_ones(dashboard: dict[str, Any]) -> None:
    used = {
        name.removesuffix("_bucket")
        for expr in _exprs(dashboard)
        for name in re.findall(r"\b(?:driftloop|kafka)_\w+", expr)
    }
    assert {
        "driftloop_events_consumed_total",
        "driftloop_dead_letters_total",
        "driftloop_handler_duration_seconds",
    } <= used
    readme = (INFRA / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`((?:driftloop|kafka)_\w+)`", readme))
    assert used <= documented, f"not in infra/README.md: {sorted(used - documented)}"
