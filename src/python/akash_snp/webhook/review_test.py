"""The AdmissionReview envelope: echoing, patch encoding, and answers to malformed requests."""

from __future__ import annotations

import base64
import json
from typing import Any

import jsonpatch
import pytest

from akash_snp.webhook.config import parse_config
from akash_snp.webhook.review import review

POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"generateName": "web-", "labels": {"akash.network": "true"}},
    "spec": {"containers": [{"name": "web", "image": "nginx:1.25.3"}]},
}


def admission(request: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "namespace": "lease",
        "operation": "CREATE",
        "object": POD,
    }
    base.update(request or {})
    document = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": base}
    document.update(overrides)
    return document


def body(document: Any) -> bytes:
    return json.dumps(document).encode()


def test_pod_create_is_patched_and_echoed() -> None:
    outcome = review(body(admission()), parse_config({}))
    answer = outcome.review
    assert answer["apiVersion"] == "admission.k8s.io/v1"
    assert answer["kind"] == "AdmissionReview"
    response = answer["response"]
    assert response["uid"] == "705ab4f5-6393-11e8-b7cc-42010a800002"
    assert response["allowed"] is True
    assert response["patchType"] == "JSONPatch"
    patch = json.loads(base64.b64decode(response["patch"]))
    patched = jsonpatch.apply_patch(POD, patch)
    assert patched["spec"]["initContainers"][0]["name"] == "sev-attestation"
    assert (outcome.result, outcome.namespace, outcome.pod) == ("injected", "lease", "web-")


def test_namespace_falls_back_to_the_object() -> None:
    pod = {**POD, "metadata": {**POD["metadata"], "namespace": "kube-system"}}
    outcome = review(body(admission({"namespace": "", "object": pod})), parse_config({}))
    assert (outcome.result, outcome.reason) == ("skipped", "excluded-namespace")
    assert "patch" not in outcome.review["response"]


@pytest.mark.parametrize(
    "request_fields",
    [
        {"operation": "UPDATE"},
        {"operation": "DELETE", "object": None},
        {"kind": {"group": "apps", "version": "v1", "kind": "Deployment"}},
        {"subResource": "ephemeralcontainers"},
    ],
)
def test_other_requests_are_allowed_unchanged(request_fields: dict[str, Any]) -> None:
    outcome = review(body(admission(request_fields)), parse_config({}))
    assert outcome.review["response"] == {
        "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
        "allowed": True,
    }
    assert (outcome.result, outcome.reason) == ("skipped", "not-a-pod-create")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (body(admission(kind="Pod")), "expected kind AdmissionReview"),
        (body(admission(apiVersion="admission.k8s.io/v1beta1")), "apiVersion"),
        (body({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}), "no request"),
        (body(admission({"uid": None})), "no uid"),
        (body(admission({"object": "pod"})), "without an object"),
        (body(admission({"object": {"spec": {"containers": 3}}})), "malformed Pod"),
        (body(admission({"namespace": None})), "namespace"),
    ],
)
def test_malformed_requests_get_a_well_formed_denial(raw: bytes, message: str) -> None:
    outcome = review(raw, parse_config({}))
    response = outcome.review["response"]
    assert outcome.review["kind"] == "AdmissionReview"
    assert response["allowed"] is False
    assert response["status"]["code"] == 400
    assert message in response["status"]["message"]
    assert outcome.result == "error"


def test_on_error_allow_admits_with_a_warning() -> None:
    outcome = review(body(admission({"object": "pod"})), parse_config({"on_error": "allow"}))
    response = outcome.review["response"]
    assert response["allowed"] is True
    assert response["uid"] == "705ab4f5-6393-11e8-b7cc-42010a800002"
    assert "without an object" in response["warnings"][0]


@pytest.mark.parametrize("depth", [100_000, 2_000_000])
def test_deeply_nested_json_is_a_short_denial(depth: int) -> None:
    outcome = review(b"[" * depth + b"]" * depth, parse_config({}))
    response = outcome.review["response"]
    assert response["allowed"] is False
    assert response["status"]["message"] == (
        "sev-attestation webhook: request body nests JSON too deeply"
    )
    assert outcome.result == "error"
