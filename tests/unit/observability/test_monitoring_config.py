"""The monitoring set-up holds together without a Docker engine: docker-compose.yml parses and
names every service; Prometheus scrapes each service that serves metrics at the port it
listens on; Grafana's data source is that Prometheus; and every metric the dashboard's PromQL
names is one the code registers (a renamed metric would leave a panel silently empty)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client.registry import Collector

import serving_api.metrics  # noqa: F401  (registers the API metrics)
from connectors import metrics as worker_metrics
from orchestration.lib.pipeline_runs import PipelineRunCollector

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "docker-compose.yml"
PROMETHEUS = ROOT / "observability" / "prometheus.yml"
GRAFANA = ROOT / "observability" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "analisa.json"

SERVICES = {
    "postgres",
    "redis",
    "rabbitmq",
    "migrate",
    "dagster-webserver",
    "dagster-daemon",
    "worker",
    "api",
    "metrics-exporter",
    "prometheus",
    "grafana",
}
# The services that serve /metrics, and what each must show on the dashboard.
SCRAPED = {"api", "worker", "metrics-exporter"}


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _prometheus() -> dict:
    return yaml.safe_load(PROMETHEUS.read_text(encoding="utf-8"))


def _dashboard() -> dict:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


# -- compose ---------------------------------------------------------------------------------
def test_compose_parses_and_names_every_service():
    services = _compose()["services"]
    assert set(services) == SERVICES
    assert services["prometheus"]["image"].startswith("prom/prometheus:")
    assert services["grafana"]["image"].startswith("grafana/grafana:")
    # monitoring UIs have no login of ours: published on localhost only
    for name in ("prometheus", "grafana"):
        assert all(p.startswith("127.0.0.1:") for p in services[name]["ports"]), name


def test_every_mounted_monitoring_file_exists():
    services = _compose()["services"]
    for name in ("prometheus", "grafana"):
        for volume in services[name]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), (name, source)


def _listening_port(service: dict) -> int:
    """The port a compose service's process serves metrics on, from its command or env."""
    command = service.get("command") or []
    if "--port" in command:
        return int(command[command.index("--port") + 1])
    env = service.get("environment") or {}
    return int(env["ANALISA_WORKER_METRICS_PORT"])


def _targets() -> dict[str, tuple[str, int]]:
    """{job: (host, port)} of every scrape job of prometheus.yml."""
    out = {}
    for job in _prometheus()["scrape_configs"]:
        for static in job.get("static_configs", []):
            for target in static["targets"]:
                host, port = target.rsplit(":", 1)
                out[job["job_name"]] = (host, int(port))
        for dns in job.get("dns_sd_configs", []):
            for name in dns["names"]:
                out[job["job_name"]] = (name, int(dns["port"]))
    return out


def test_prometheus_scrapes_each_metrics_service_at_the_port_it_listens_on():
    services = _compose()["services"]
    targets = _targets()
    scraped = {host for host, _ in targets.values() if host != "localhost"}
    assert scraped == SCRAPED
    for job, (host, port) in targets.items():
        if host == "localhost":
            continue
        assert host in services, (job, host)
        assert _listening_port(services[host]) == port, (job, host, port)
    # the worker listens on every interface inside its container, or nothing could scrape it
    worker_env = services["worker"]["environment"]
    assert worker_env["ANALISA_METRICS_HOST"] == "0.0.0.0"
    exporter = services["metrics-exporter"]["command"]
    assert exporter[exporter.index("--host") + 1] == "0.0.0.0"
    # the worker's port is the one its environment turns on, not the default (off)
    assert worker_env["ANALISA_WORKER_METRICS_PORT"] == "9101"


def test_grafana_reads_the_compose_prometheus_and_loads_the_dashboard():
    datasources = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )["datasources"]
    (source,) = datasources
    services = _compose()["services"]
    host_port = source["url"].removeprefix("http://")
    host, port = host_port.split(":")
    assert host == "prometheus" and host in services
    assert int(port) == 9090
    providers = yaml.safe_load(
        (GRAFANA / "provisioning" / "dashboards" / "analisa.yml").read_text()
    )["providers"]
    mounted = {v.split(":")[1]: v.split(":")[0] for v in services["grafana"]["volumes"] if ":" in v}
    (provider,) = providers
    assert provider["options"]["path"] in mounted
    assert (ROOT / mounted[provider["options"]["path"]] / "analisa.json").exists()
    # every panel and query asks the provisioned data source
    for panel in _panels(_dashboard()):
        if panel.get("type") == "row":
            continue
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == source["uid"], panel["title"]


# -- the dashboard's metrics exist in the code ----------------------------------------------
def _panels(dashboard: dict):
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def _expressions(dashboard: dict) -> list[str]:
    return [t["expr"] for p in _panels(dashboard) for t in p.get("targets", [])]


PROMQL_WORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "and",
    "or",
    "unless",
    "offset",
    "inf",
    "nan",
}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: identifiers that are not functions, label
    lists (by/on/...), label matchers, strings, range durations or keywords."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges
    text = re.sub(
        r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text
    )  # label lists
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        word = match.group(0)
        rest = text[match.end() :].lstrip()
        if rest.startswith("("):  # a function
            continue
        if word.lower() in PROMQL_WORDS:
            continue
        if match.start() > 0 and (
            text[match.start() - 1].isdigit() or text[match.start() - 1] == "."
        ):
            continue  # the exponent of a number (1e-9)
        names.add(word)
    return names


def _sample_names(collector: Collector, families) -> set[str]:
    names = set()
    for family in families:
        kind = family.type
        if kind == "counter":
            names |= {f"{family.name}_total", f"{family.name}_created"}
        elif kind == "histogram":
            names |= {f"{family.name}_{s}" for s in ("bucket", "sum", "count", "created")}
        elif kind == "summary":
            names |= {family.name, f"{family.name}_sum", f"{family.name}_count"}
        else:
            names.add(family.name)
        names |= {s.name for s in family.samples}
    return names


def registered_metrics() -> set[str]:
    """Every sample name the worker, the API and the pipeline exporter can expose."""
    names = _sample_names(worker_metrics.REGISTRY, worker_metrics.REGISTRY.collect())
    names |= _sample_names(DEFAULT_REGISTRY, DEFAULT_REGISTRY.collect())
    exporter = PipelineRunCollector("postgresql://unused")
    names |= _sample_names(exporter, exporter.describe())
    return names


def test_every_metric_on_the_dashboard_is_registered_by_the_code():
    registered = registered_metrics()
    used = set().union(*(metric_names(e) for e in _expressions(_dashboard())))
    assert used, "no PromQL found in the dashboard"
    missing = sorted(used - registered)
    assert missing == [], f"the dashboard reads metrics no code registers: {missing}"


def test_the_dashboard_shows_collection_pipeline_and_api():
    used = set().union(*(metric_names(e) for e in _expressions(_dashboard())))
    wanted = {
        # collection: calls, errors by class, throttling, quota, queue depth, task latency
        "analisa_worker_platform_calls_total",
        "analisa_worker_platform_errors_total",
        "analisa_worker_throttle_events_total",
        "analisa_worker_throttle_wait_seconds_total",
        "analisa_worker_quota_used_percent",
        "analisa_queue_messages_ready",
        "analisa_worker_tasks_in_progress",
        "analisa_worker_task_latency_seconds_bucket",
        # pipeline: rows per layer, gate results, durations
        "analisa_pipeline_table_rows",
        "analisa_pipeline_gate_passed",
        "analisa_pipeline_step_duration_seconds",
        "analisa_pipeline_last_run_duration_seconds",
        # API: request rate, latency, errors, cache hit ratio
        "analisa_api_responses_total",
        "analisa_api_request_duration_seconds_bucket",
        "analisa_api_errors_total",
        "analisa_api_cache_lookups_total",
    }
    assert wanted - used == set()
    rows = [p["title"] for p in _dashboard()["panels"] if p["type"] == "row"]
    assert rows == ["Collection", "Pipeline", "API"]


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        (
            'sum by (platform, outcome) (rate(analisa_worker_platform_calls_total{a="b"}[5m]))',
            {"analisa_worker_platform_calls_total"},
        ),
        (
            "histogram_quantile(0.95, sum by (le) (rate(x_seconds_bucket[$__rate_interval])))",
            {"x_seconds_bucket"},
        ),
        ("a / clamp_min(b, 1e-9) * on (gate, asset) group_left () c == 0", {"a", "b", "c"}),
        ("time() - last_seen_timestamp_seconds", {"last_seen_timestamp_seconds"}),
    ],
)
def test_metric_names_are_read_from_promql(expr, names):
    assert metric_names(expr) == names


def test_the_checker_sees_a_metric_the_code_does_not_register():
    registered = registered_metrics()
    typo = metric_names("sum(rate(analisa_api_requests_total[5m]))")
    assert typo - registered == {"analisa_api_requests_total"}


def test_worker_scope_labels_never_carry_the_account():
    assert worker_metrics.scope_labels(
        "instagram:account:17841400000000111", "17841400000000111"
    ) == (
        "instagram",
        "account",
    )
    assert worker_metrics.scope_labels("instagram:app") == ("instagram", "app")
    assert worker_metrics.scope_labels("tiktok:endpoint:video_list:-000abc", "-000abc") == (
        "tiktok",
        "endpoint:video_list",
    )
    # unknown platforms and endpoints collapse into one bounded value
    assert worker_metrics.scope_labels("myspace:user:42", "42") == ("other", "other")
    assert worker_metrics.endpoint_label("instagram", "media/123") == "other"


# -- alerting rules ------------------------------------------------------------------------
ALERTS = ROOT / "observability" / "alerts.yml"
# what Prometheus itself records about each scrape
PROMETHEUS_OWN = {"up"}


def _rules() -> list[dict]:
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_prometheus_loads_the_alerting_rules_compose_mounts():
    rule_files = _prometheus()["rule_files"]
    mounts = {
        v.split(":")[1]: v.split(":")[0] for v in _compose()["services"]["prometheus"]["volumes"]
    }
    for path in rule_files:
        assert path in mounts, path
        assert (ROOT / mounts[path]) == ALERTS


def test_every_alert_reads_metrics_that_exist_and_says_what_is_wrong():
    registered = registered_metrics() | PROMETHEUS_OWN
    rules = _rules()
    assert len({r["alert"] for r in rules}) == len(rules)  # names unique
    for rule in rules:
        names = metric_names(str(rule["expr"]))
        assert names, rule["alert"]
        assert names <= registered, (rule["alert"], sorted(names - registered))
        assert rule["annotations"]["summary"], rule["alert"]
        assert rule["labels"]["severity"] in {"page", "ticket", "info"}
    # the jobs `up` is asked about are jobs Prometheus scrapes
    jobs = {job["job_name"] for job in _prometheus()["scrape_configs"]}
    for rule in rules:
        for job in re.findall(r'up\{job="([^"]+)"', str(rule["expr"])):
            assert job in jobs, (rule["alert"], job)
