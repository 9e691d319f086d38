"""The monitoring component renders with an overlay, keeps every invariant of the overlay, and
its Prometheus Operator objects and Grafana dashboard are sound (monitoring.py); the sev-status
RBAC is exactly the documented minimal role."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from akash_snp.deploy_test.manifests import (
    Doc,
    Expect,
    assert_invariants,
    find,
    one,
    validation_errors,
)
from akash_snp.deploy_test.monitoring import (
    dashboard_errors,
    expression_errors,
    metrics_by_job,
    rule_errors,
    scrape_errors,
)

ALERTS = {
    "SevAttestationFailing",
    "SevAttestationStale",
    "SevAttestationUnavailableOnSnpNode",
    "SevSidecarScrapeFailing",
    "SevWebhookDown",
    "SevWebhookErrors",
    "SevWebhookSkipsRising",
    "SevAgentDown",
    "SevAgentRateLimiting",
    "SevAgentFirmwareErrors",
}
SEV_STATUS_RULES = [
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
    {"apiGroups": [""], "resources": ["pods/proxy"], "verbs": ["get"]},
]


@pytest.fixture(scope="module")
def monitored(kustomize_dir: Path, render: Callable[[Path], list[Doc]],
              tmp_path_factory: pytest.TempPathFactory) -> list[Doc]:
    """The m7a overlay with the monitoring component added, as docs/deploy.md says."""
    tree = tmp_path_factory.mktemp("monitored") / "kustomize"
    shutil.copytree(kustomize_dir, tree)
    path = tree / "overlays" / "m7a" / "kustomization.yaml"
    data = yaml.safe_load(path.read_text())
    data["components"].insert(-1, "../../components/monitoring")
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return render(path.parent)


def test_the_monitored_overlay_keeps_every_invariant(monitored: list[Doc], tmp_path: Path) -> None:
    assert_invariants(monitored, Expect("m7a", "Genoa"), tmp_path)


def test_no_overlay_includes_monitoring_by_default(
    rendered_overlays: dict[str, list[Doc]],
) -> None:
    """A plain k3s has no Prometheus Operator CRDs: `kubectl apply` would fail."""
    for docs in rendered_overlays.values():
        assert not [d for d in docs if d["apiVersion"].startswith("monitoring.coreos.com/")]


def test_scrape_configuration(monitored: list[Doc]) -> None:
    assert len(find(monitored, "PodMonitor")) == 3
    assert scrape_errors(monitored, sidecar_port=8790) == []


def test_alerts_parse_and_use_exported_metrics(monitored: list[Doc]) -> None:
    rule = one(monitored, "PrometheusRule", "sev-attestation")
    assert rule_errors(rule, metrics_by_job()) == []
    names = {r["alert"] for g in rule["spec"]["groups"] for r in g["rules"]}
    assert names == ALERTS


def test_dashboard_is_discoverable_and_uses_exported_metrics(monitored: list[Doc]) -> None:
    config_map = one(monitored, "ConfigMap", "sev-attestation-dashboard")
    assert dashboard_errors(config_map, metrics_by_job()) == []


@pytest.mark.parametrize(
    ("expr", "complaint"),
    [
        ('rate(sev_webhook_errors_total{job="sev-webhook"}[5m]', "does not parse"),
        ('sev_webhook_error_total{job="sev-webhook"}', "not exported by job sev-webhook"),
        ("sev_webhook_errors_total", "needs job="),
        ('sev_agent_reports_served_total{job="sev-attestation-sidecar"}', "not exported by job"),
        ('sev_webhook_skips_total{job="sev-webhook", reasons="x"}', "has no labels ['reasons']"),
        ('sev_webhook_errors{job="sev-webhook"}', "not exported"),  # the _total is missing
    ],
)
def test_the_expression_check_is_not_vacuous(expr: str, complaint: str) -> None:
    errors = expression_errors(expr, "test", metrics_by_job())
    assert len(errors) == 1
    assert complaint in errors[0]


def test_prometheus_client_suffixes_are_known() -> None:
    webhook = metrics_by_job()["sev-webhook"]
    assert {"sev_webhook_errors_total", "sev_webhook_admission_duration_seconds_bucket",
            "sev_webhook_admission_duration_seconds_count"} <= set(webhook)
    assert webhook["sev_webhook_skips_total"] == {"reason"}
    assert "sev_attestation_last_success_timestamp_seconds" in metrics_by_job()[
        "sev-attestation-agent"
    ]


def test_an_unknown_pod_monitor_field_is_reported(monitored: list[Doc]) -> None:
    docs = copy.deepcopy(monitored)
    one(docs, "PodMonitor", "sev-webhook")["spec"]["podMetricsEndpoints"][0]["intervall"] = "1m"
    assert any("intervall" in e for e in scrape_errors(docs, sidecar_port=8790))


def test_sev_status_rbac_is_minimal(
    kustomize_dir: Path, render: Callable[[Path], list[Doc]]
) -> None:
    docs = render(kustomize_dir.parent / "sev-status")
    assert validation_errors(docs) == []
    assert sorted(d["kind"] for d in docs) == ["ClusterRole", "ClusterRoleBinding",
                                               "ServiceAccount"]
    assert one(docs, "ClusterRole", "sev-status")["rules"] == SEV_STATUS_RULES
    binding = one(docs, "ClusterRoleBinding", "sev-status")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                  "name": "sev-status"}
    account = one(docs, "ServiceAccount", "sev-status")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "sev-status",
                                    "namespace": account["metadata"]["namespace"]}]
    assert account["automountServiceAccountToken"] is False


def test_the_prometheus_policy_may_not_admit_tenant_pods(monitored: list[Doc]) -> None:
    docs = copy.deepcopy(monitored)
    policy = one(docs, "NetworkPolicy", "sev-webhook-prometheus")
    assert scrape_errors(docs, sidecar_port=8790) == []
    policy["spec"]["ingress"][0]["from"] = [{"namespaceSelector": {}}]
    assert any("tenant pods could match" in e for e in scrape_errors(docs, sidecar_port=8790))
