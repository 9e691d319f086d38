"""AdmissionReview v1 in, AdmissionReview v1 out: the envelope around ``patch.decide``.

Every input, however malformed, yields a well-formed AdmissionReview answer and an ``Outcome`` for
logs and metrics; nothing here raises. Requests this webhook does not handle (other kinds, other
operations, subresources) are allowed unchanged. A pod CREATE that cannot be inspected, and any
request that is not a usable AdmissionReview, gets ``config.on_error``: deny by default, the intent
of failurePolicy Fail (never admit a pod the injector could not look at).
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from akash_snp.webhook.config import WebhookConfig
from akash_snp.webhook.patch import PodShapeError, decide

_LOG = logging.getLogger(__name__)

API_VERSION = "admission.k8s.io/v1"
KIND = "AdmissionReview"
SKIP_NOT_POD_CREATE = "not-a-pod-create"

RESULT_INJECTED = "injected"
RESULT_SKIPPED = "skipped"
RESULT_ERROR = "error"


@dataclass(frozen=True)
class Outcome:
    """What happened, for the response body, the metrics and the log line."""

    review: dict[str, Any]
    result: str
    reason: str
    uid: str = ""
    namespace: str = ""
    pod: str = ""


class _BadReview(ValueError):
    """The request is not an AdmissionReview this webhook can answer meaningfully."""


def _envelope(response: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": KIND, "response": response}


def error_outcome(message: str, config: WebhookConfig, uid: str = "", code: int = 400) -> Outcome:
    """The answer when the webhook cannot decide: ``config.on_error`` with ``message``."""
    response: dict[str, Any] = {"uid": uid, "allowed": config.on_error == "allow"}
    if response["allowed"]:
        response["warnings"] = [f"sev-attestation webhook: {message}; admitted unchanged"]
    else:
        response["status"] = {"code": code, "message": f"sev-attestation webhook: {message}"}
    return Outcome(_envelope(response), RESULT_ERROR, message, uid=uid)


def _request_of(body: bytes) -> Mapping[str, Any]:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _BadReview(f"request body is not JSON ({exc})") from None
    except RecursionError:  # hostile input, not a bug: a short reason and no traceback
        raise _BadReview("request body nests JSON too deeply") from None
    if not isinstance(document, Mapping):
        raise _BadReview("request body is not a JSON object")
    if document.get("kind") != KIND or document.get("apiVersion") != API_VERSION:
        raise _BadReview(
            f"expected kind {KIND} apiVersion {API_VERSION}, got kind "
            f"{document.get('kind')!r} apiVersion {document.get('apiVersion')!r}"
        )
    request = document.get("request")
    if not isinstance(request, Mapping):
        raise _BadReview("AdmissionReview has no request object")
    return request


def _is_pod_create(request: Mapping[str, Any]) -> bool:
    kind = request.get("kind")
    return (
        isinstance(kind, Mapping)
        and kind.get("group", "") == ""
        and kind.get("version") == "v1"
        and kind.get("kind") == "Pod"
        and request.get("operation") == "CREATE"
        and not request.get("subResource")
    )


def _name_of(request: Mapping[str, Any], pod: Mapping[str, Any]) -> str:
    metadata = pod.get("metadata")
    if isinstance(metadata, Mapping):
        name = metadata.get("name") or metadata.get("generateName")
        if isinstance(name, str) and name:
            return name
    name = request.get("name")
    return name if isinstance(name, str) else ""


def _namespace_of(request: Mapping[str, Any], pod: Mapping[str, Any]) -> str:
    namespace = request.get("namespace")
    metadata = pod.get("metadata")
    if not namespace and isinstance(metadata, Mapping):
        namespace = metadata.get("namespace")
    if not isinstance(namespace, str) or not namespace:
        raise PodShapeError("neither request.namespace nor the Pod's metadata.namespace is set")
    return namespace


def review(body: bytes, config: WebhookConfig) -> Outcome:
    """Answer one AdmissionReview request body."""
    try:
        request = _request_of(body)
    except _BadReview as exc:
        return error_outcome(str(exc), config)
    uid = request.get("uid")
    if not isinstance(uid, str) or not uid:
        return error_outcome("AdmissionReview request has no uid", config)
    if not _is_pod_create(request):
        allowed = _envelope({"uid": uid, "allowed": True})
        return Outcome(allowed, RESULT_SKIPPED, SKIP_NOT_POD_CREATE, uid=uid)
    pod = request.get("object")
    if not isinstance(pod, Mapping):
        return error_outcome("pod CREATE without an object", config, uid)
    try:
        namespace = _namespace_of(request, pod)
        decision = decide(pod, namespace, config)
    except PodShapeError as exc:
        return error_outcome(f"malformed Pod: {exc}", config, uid)
    except RecursionError:
        return error_outcome("the Pod nests JSON too deeply", config, uid)
    except Exception as exc:  # never answer with a traceback; the log keeps the details
        _LOG.exception("internal error while building the patch", extra={"uid": uid})
        return error_outcome(f"internal error ({type(exc).__name__})", config, uid, code=500)
    name = _name_of(request, pod)
    response: dict[str, Any] = {"uid": uid, "allowed": True}
    if not decision.inject:
        return Outcome(_envelope(response), RESULT_SKIPPED, decision.reason, uid, namespace, name)
    encoded = json.dumps(decision.patch, separators=(",", ":")).encode()
    response["patchType"] = "JSONPatch"
    response["patch"] = base64.b64encode(encoded).decode("ascii")
    return Outcome(_envelope(response), RESULT_INJECTED, decision.reason, uid, namespace, name)
