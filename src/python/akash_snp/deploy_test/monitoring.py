"""Checks of the monitoring component (components/monitoring): the Prometheus Operator kinds have
no bundled schema, so their fields are checked here against the subset of the CRDs we use
(unknown fields are errors, as in strict validation), every PromQL expression is parsed with a
real parser (promql-parser), and every metric it names must be exported today by the component
its ``job`` scrapes (read from the metrics modules' own registries)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import promql_parser
from prometheus_client import CollectorRegistry

from akash_snp.agent.metrics import AgentMetrics
from akash_snp.attestation.metrics import AttestationMetrics
from akash_snp.deploy_test.manifests import Doc, find, one, selector_matches, spec_labels
from akash_snp.webhook.metrics import Metrics as WebhookMetrics
from akash_snp.webhook.sidecar import SIDECAR_NAME

MONITORING_API = "monitoring.coreos.com/v1"
# Series that Prometheus itself makes for every target.
SYNTHETIC = {"up": frozenset({"job", "instance", "node", "namespace", "pod"})}
# Labels every scraped series carries: the target's (podmonitors.yaml relabelings) and the
# histogram bucket bound.
TARGET_LABELS = frozenset({"job", "instance", "node", "namespace", "pod", "le"})
DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")
SEVERITIES = {"critical", "warning"}
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}

# The fields of the CRDs we use (PodMonitor, PrometheusRule: prometheus-operator v0.7x).
POD_MONITOR_SPEC = {"selector", "namespaceSelector", "podMetricsEndpoints", "jobLabel"}
ENDPOINT = {"port", "path", "scheme", "interval", "scrapeTimeout", "tlsConfig", "relabelings"}
TLS = {"insecureSkipVerify", "serverName"}
RELABEL = {"sourceLabels", "separator", "regex", "targetLabel", "replacement", "action"}
ACTIONS = {"replace", "keep", "drop", "labelmap", "labeldrop", "labelkeep"}
RULE_GROUP = {"name", "interval", "rules"}
ALERT_RULE = {"alert", "expr", "for", "labels", "annotations"}
META_LABEL = re.compile(r"^__meta_kubernetes_(namespace|pod_[a-z0-9_]+)$")


def exported(registry: CollectorRegistry) -> dict[str, frozenset[str]]:
    """Every series name a registry exposes (``_total`` for counters, ``_bucket``/``_sum``/
    ``_count`` for histograms, as prometheus_client writes them) -> its label names."""
    names: dict[str, frozenset[str]] = {}
    collectors = registry._collector_to_names  # the registry's own index of its collectors
    for collector in collectors:
        labels = frozenset(getattr(collector, "_labelnames", ()))
        for family in collector.describe():  # type: ignore[attr-defined]
            suffixes = {
                "counter": ("_total",),
                "gauge": ("",),
                "histogram": ("_bucket", "_sum", "_count"),
            }[family.type]
            for suffix in suffixes:
                names[family.name + suffix] = labels
    return names


def metrics_by_job() -> dict[str, dict[str, frozenset[str]]]:
    """The ``job`` label each PodMonitor sets -> what that component exports."""
    return {
        "sev-attestation-sidecar": exported(AttestationMetrics().registry),
        "sev-attestation-agent": exported(AgentMetrics().registry),
        "sev-webhook": exported(WebhookMetrics().registry),
    }


def _unknown(what: str, mapping: Doc, allowed: set[str]) -> list[str]:
    extra = sorted(set(mapping) - allowed)
    return [f"{what}: unknown fields {extra}"] if extra else []


def selectors(expr: str) -> Iterator[Any]:
    """Every vector selector of ``expr`` (ValueError when it does not parse)."""
    found: list[Any] = []

    def visit(node: Any) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            found.append(node)
        return True

    promql_parser.walk(promql_parser.parse(expr), visit)
    return iter(found)


Jobs = dict[str, dict[str, frozenset[str]]]
"""``job`` label -> series name -> label names."""


def expression_errors(expr: str, where: str, jobs: Jobs) -> list[str]:
    """Parse ``expr``; each selector must name its ``job`` (sidecar and agent export the same
    names) and a series that job exports, and match only labels that series has."""
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    try:
        found = list(selectors(expr))
    except ValueError as error:
        return [f"{where}: does not parse: {error}"]
    errors: list[str] = []
    for selector in found:
        matchers = {m.name: m for m in selector.matchers.matchers}
        job = matchers.get("job")
        if job is None or str(job.op) != "MatchOp.Equal" or job.value not in jobs:
            errors.append(f"{where}: {selector.name} needs job=\"<one of {sorted(jobs)}>\"")
            continue
        series = jobs[job.value] | SYNTHETIC
        if selector.name not in series:
            errors.append(f"{where}: {selector.name} is not exported by job {job.value}")
            continue
        unknown = set(matchers) - series[selector.name] - TARGET_LABELS
        if unknown:
            errors.append(f"{where}: {selector.name} has no labels {sorted(unknown)}")
    return errors


def pod_monitor_errors(monitor: Doc) -> list[str]:
    """Fields of one PodMonitor; returns its errors."""
    name = monitor["metadata"]["name"]
    spec = monitor["spec"]
    errors = _unknown(f"PodMonitor/{name}.spec", spec, POD_MONITOR_SPEC)
    if not spec.get("podMetricsEndpoints"):
        errors.append(f"PodMonitor/{name}: no podMetricsEndpoints")
    for endpoint in spec.get("podMetricsEndpoints", []):
        errors += _unknown(f"PodMonitor/{name} endpoint", endpoint, ENDPOINT)
        errors += _unknown(f"PodMonitor/{name} tlsConfig", endpoint.get("tlsConfig", {}), TLS)
        if not DURATION.match(str(endpoint.get("interval", "30s"))):
            errors.append(f"PodMonitor/{name}: bad interval {endpoint.get('interval')}")
        for rule in endpoint.get("relabelings", []):
            errors += _unknown(f"PodMonitor/{name} relabeling", rule, RELABEL)
            if rule.get("action", "replace") not in ACTIONS:
                errors.append(f"PodMonitor/{name}: unknown action {rule['action']}")
            for source in rule.get("sourceLabels", []):
                if not META_LABEL.match(source):
                    errors.append(f"PodMonitor/{name}: unknown source label {source}")
            if rule.get("action", "replace") == "replace" and "targetLabel" not in rule:
                errors.append(f"PodMonitor/{name}: a replace without targetLabel")
    return errors


def rule_errors(rule_doc: Doc, jobs: dict[str, dict[str, frozenset[str]]]) -> list[str]:
    """Fields and expressions of one PrometheusRule; returns its errors."""
    errors = _unknown("PrometheusRule.spec", rule_doc["spec"], {"groups"})
    group_names = [g["name"] for g in rule_doc["spec"]["groups"]]
    if len(set(group_names)) != len(group_names):
        errors.append(f"duplicate group names {group_names}")
    for group in rule_doc["spec"]["groups"]:
        errors += _unknown(f"group {group['name']}", group, RULE_GROUP)
        for rule in group["rules"]:
            where = f"alert {rule.get('alert')}"
            errors += _unknown(where, rule, ALERT_RULE)
            if not rule.get("alert") or not isinstance(rule.get("expr"), str):
                errors.append(f"{where}: every rule is an alert with an expr")
                continue
            if not DURATION.match(str(rule.get("for", "0s"))):
                errors.append(f"{where}: bad for {rule['for']}")
            if rule.get("labels", {}).get("severity") not in SEVERITIES:
                errors.append(f"{where}: severity must be one of {sorted(SEVERITIES)}")
            if not {"summary", "description"} <= set(rule.get("annotations", {})):
                errors.append(f"{where}: needs summary and description annotations")
            errors += expression_errors(rule["expr"], where, jobs)
    return errors


def dashboard_errors(config_map: Doc, jobs: dict[str, dict[str, frozenset[str]]]) -> list[str]:
    """The dashboard ConfigMap: discoverable by Grafana's sidecar, valid JSON, every panel's
    queries parse and name exported series."""
    errors: list[str] = []
    if config_map["metadata"].get("labels", {}).get("grafana_dashboard") != "1":
        errors.append("the dashboard ConfigMap lacks the label grafana_dashboard: \"1\"")
    (text,) = config_map["data"].values()
    dashboard = json.loads(text)
    panels = dashboard["panels"]
    ids = [p["id"] for p in panels]
    if len(set(ids)) != len(ids):
        errors.append("duplicate panel ids")
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    queries = 0
    for panel in panels:
        if panel["type"] == "row":
            continue
        if panel["datasource"]["uid"].strip("${}") not in variables:
            errors.append(f"panel {panel['title']}: unknown datasource {panel['datasource']}")
        if not panel.get("targets"):
            errors.append(f"panel {panel['title']}: no queries")
        for target in panel.get("targets", []):
            queries += 1
            errors += expression_errors(target["expr"], f"panel {panel['title']}", jobs)
    if queries == 0:
        errors.append("the dashboard has no queries")
    return errors


def scrape_errors(docs: list[Doc], sidecar_port: int) -> list[str]:
    """Each PodMonitor selects the pods it is meant for, on a port they have, and gives the
    ``job`` the alerts use."""
    errors: list[str] = []
    jobs: dict[str, Doc] = {}
    for monitor in [d for d in docs if d["kind"] == "PodMonitor"]:
        errors += pod_monitor_errors(monitor)
        (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
        fixed = [r["replacement"] for r in endpoint["relabelings"] if r.get("targetLabel") == "job"]
        if len(fixed) != 1:
            errors.append(f"PodMonitor/{monitor['metadata']['name']}: no fixed job label")
            continue
        jobs[fixed[0]] = monitor
    if sorted(jobs) != sorted(metrics_by_job()):
        return [*errors, f"PodMonitor jobs {sorted(jobs)} differ from the metrics' components"]
    for job, kind, name in (
        ("sev-webhook", "Deployment", "sev-webhook"),
        ("sev-attestation-agent", "DaemonSet", "sev-attestation-agent"),
    ):
        monitor, workload = jobs[job], one(docs, kind, name)
        if monitor["metadata"]["namespace"] != workload["metadata"]["namespace"]:
            errors.append(f"{job}: the PodMonitor is not in the {kind}'s namespace")
        if not selector_matches(monitor["spec"]["selector"], spec_labels(workload)):
            errors.append(f"{job}: the PodMonitor does not select the {kind}'s pods")
        ports = {
            p["name"]
            for c in workload["spec"]["template"]["spec"]["containers"]
            for p in c.get("ports", [])
        }
        if monitor["spec"]["podMetricsEndpoints"][0].get("port") not in ports:
            errors.append(f"{job}: scrapes a port the {kind} does not have")
    errors += _prometheus_policy_errors(docs, jobs["sev-webhook"])
    sidecars = jobs["sev-attestation-sidecar"]
    if sidecars["spec"].get("namespaceSelector") != {"any": True}:
        errors.append("the sidecar PodMonitor must look in every namespace")
    if not selector_matches(sidecars["spec"]["selector"], {"akash.network": "true"}):
        errors.append("the sidecar PodMonitor does not select Akash pods")
    keeps = {
        r["sourceLabels"][0]: r["regex"]
        for r in sidecars["spec"]["podMetricsEndpoints"][0]["relabelings"]
        if r.get("action") == "keep"
    }
    expected = {
        "__meta_kubernetes_pod_annotation_sev_attestation_status": "injected",
        "__meta_kubernetes_pod_container_name": SIDECAR_NAME,
        "__meta_kubernetes_pod_container_port_number": str(sidecar_port),
    }
    if keeps != expected:
        errors.append(f"the sidecar PodMonitor keeps {keeps}, expected {expected}")
    return errors


def _prometheus_policy_errors(docs: list[Doc], monitor: Doc) -> list[str]:
    """Prometheus may reach the webhook's metrics port, named by an immutable namespace name and
    a pod label, never by a selector a tenant pod could match; egress is left alone."""
    webhook = one(docs, "Deployment", "sev-webhook")
    (container,) = webhook["spec"]["template"]["spec"]["containers"]
    port_name = monitor["spec"]["podMetricsEndpoints"][0]["port"]
    number = next(p["containerPort"] for p in container["ports"] if p["name"] == port_name)
    policies = [
        p for p in find(docs, "NetworkPolicy")
        if p["metadata"]["name"] != "sev-webhook"
        and selector_matches(p["spec"]["podSelector"], spec_labels(webhook))
    ]
    if len(policies) != 1:
        return [f"expected one NetworkPolicy admitting Prometheus, found {len(policies)}"]
    spec = policies[0]["spec"]
    errors = [] if spec["policyTypes"] == ["Ingress"] else ["the Prometheus policy touches egress"]
    for rule in spec["ingress"]:
        if [p["port"] for p in rule["ports"]] != [number]:
            errors.append(f"the Prometheus policy opens {rule['ports']}, not {number}")
        for peer in rule.get("from") or [{}]:
            names = peer.get("namespaceSelector", {}).get("matchLabels", {})
            if set(peer) != {"namespaceSelector", "podSelector"} or set(names) != {
                "kubernetes.io/metadata.name"
            }:
                errors.append(f"the Prometheus policy admits {peer}: tenant pods could match")
    return errors
