"""The WSGI app: /mutate answers, health endpoints, metrics, unknown routes and JSON logs."""

from __future__ import annotations

import json
import logging
import sys

import pytest
from werkzeug.test import Client

from akash_snp.service.jsonlog import JsonFormatter
from akash_snp.webhook.app import create_app
from akash_snp.webhook.config import ConfigSource
from akash_snp.webhook.metrics import Metrics
from akash_snp.webhook.review_test import admission, body


@pytest.fixture()
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture()
def client(metrics: Metrics) -> Client:
    return Client(create_app(ConfigSource(None), metrics, max_body=64 * 1024))


def _sample(metrics: Metrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_mutate_injects_and_counts(client: Client, metrics: Metrics) -> None:
    reply = client.post("/mutate", data=body(admission()), content_type="application/json")
    assert reply.status_code == 200
    assert reply.json is not None
    assert reply.json["response"]["patchType"] == "JSONPatch"
    assert _sample(metrics, "sev_webhook_injections_total") == 1
    assert _sample(metrics, "sev_webhook_admission_requests_total", result="injected") == 1
    assert _sample(metrics, "sev_webhook_admission_duration_seconds_count") == 1


def test_skips_are_counted_by_reason(client: Client, metrics: Metrics) -> None:
    client.post("/mutate", data=body(admission({"namespace": "kube-system"})))
    client.post("/mutate", data=body(admission({"operation": "UPDATE"})))
    assert _sample(metrics, "sev_webhook_skips_total", reason="excluded-namespace") == 1
    assert _sample(metrics, "sev_webhook_skips_total", reason="not-a-pod-create") == 1


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{", "not JSON"),
        (b'{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}', "no request"),
        (body(admission({"uid": ""})), "no uid"),
        (body(admission(kind="Pod")), "expected kind"),
        (b"x" * (64 * 1024 + 1), "larger than"),
    ],
    ids=["not-json", "no-request", "no-uid", "wrong-kind", "too-large"],
)
def test_malformed_requests_never_5xx(
    client: Client, metrics: Metrics, raw: bytes, message: str
) -> None:
    reply = client.post("/mutate", data=raw, content_type="application/json")
    assert reply.status_code == 200
    assert reply.json is not None
    assert reply.json["kind"] == "AdmissionReview"
    assert reply.json["response"]["allowed"] is False
    assert message in reply.json["response"]["status"]["message"]
    assert _sample(metrics, "sev_webhook_errors_total") == 1


def test_health_and_metrics_endpoints(client: Client) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    client.post("/mutate", data=body(admission()))
    text = client.get("/metrics").get_data(as_text=True)
    assert "sev_webhook_injections_total 1.0" in text


def test_head_has_no_body(client: Client) -> None:
    reply = client.head("/healthz")
    assert reply.status_code == 200
    assert reply.headers["Content-Length"] == "3"
    assert reply.get_data() == b""


def test_unknown_path_is_404_with_a_short_echo(client: Client) -> None:
    reply = client.get("/" + "x" * 100_000)
    assert reply.status_code == 404
    assert len(reply.get_data()) < 200
    assert "100001 characters" in reply.get_data(as_text=True)


@pytest.mark.parametrize(("method", "path"), [("GET", "/mutate"), ("POST", "/healthz")])
def test_wrong_method_is_405_with_allow(client: Client, method: str, path: str) -> None:
    reply = client.open(path, method=method)
    assert reply.status_code == 405
    assert reply.headers["Allow"] in ("POST", "GET, HEAD")


def test_admission_log_line_is_json_with_the_reason(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="akash_snp.webhook.admission"):
        client.post("/mutate", data=body(admission({"namespace": "kube-system"})))
    record = caplog.records[-1]
    line = json.loads(JsonFormatter().format(record))
    assert line["reason"] == "excluded-namespace"
    assert line["result"] == "skipped"
    assert line["uid"] == "705ab4f5-6393-11e8-b7cc-42010a800002"
    assert line["level"] == "info"


def test_json_formatter_folds_exceptions_into_one_line() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.getLogger("t").makeRecord(
        "t", logging.ERROR, __file__, 1, "failed %s", ("x",), exc_info
    )
    text = JsonFormatter().format(record)
    assert "\n" not in text
    parsed = json.loads(text)
    assert parsed["message"] == "failed x"
    assert "RuntimeError: boom" in parsed["exception"]
