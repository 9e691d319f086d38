"""Decide whether a pod gets the attestation sidecar and build the JSON patch that adds it.

Pure functions over the raw pod JSON (never a typed client model, which would drop fields it does
not know). The patch is a list of small RFC 6902 ``add`` operations: it only ever adds the sidecar,
its volumes and two annotations, and touches nothing the tenant wrote. The HTTP envelope
(AdmissionReview) lives in ``review.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from akash_snp.webhook.config import WebhookConfig
from akash_snp.webhook.sidecar import PORT_NAME, SIDECAR_NAME, sidecar_container, sidecar_volumes
from akash_snp.webhook.sidecar import unique_name as _unique_name

STATUS_ANNOTATION = "sev-attestation/status"
STATUS_INJECTED = "injected"
INJECT_ANNOTATION = "sev-attestation/inject"
DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"

# Skip reasons: stable strings used as the metrics label and in logs.
SKIP_OPTED_OUT = "opted-out"
SKIP_EXCLUDED_NAMESPACE = "excluded-namespace"
SKIP_MIRROR_POD = "mirror-pod"
SKIP_HOST_NETWORK = "host-network"
SKIP_ALREADY_INJECTED = "already-injected"
SKIP_SIDECAR_PRESENT = "sidecar-present"
SKIP_PORT_CONFLICT = "port-conflict"
SKIP_NO_CONTAINERS = "no-containers"

Op = dict[str, Any]


class PodShapeError(ValueError):
    """The object under review is not shaped like a Pod (a wrong type where the API has one)."""


@dataclass(frozen=True)
class Decision:
    """Inject (``patch`` holds the operations) or skip (``reason`` says why)."""

    inject: bool
    reason: str
    patch: list[Op] = field(default_factory=list)


def escape_pointer(token: str) -> str:
    """Escape one JSON Pointer reference token (RFC 6901: ``~`` first, then ``/``)."""
    return token.replace("~", "~0").replace("/", "~1")


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PodShapeError(f"{where} must be an object, got {type(value).__name__}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise PodShapeError(f"{where} must be a list, got {type(value).__name__}")
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise PodShapeError(f"{where}[{index}] must be an object, got {type(item).__name__}")
    return value


def _skip_reason(pod: Mapping[str, Any], namespace: str, config: WebhookConfig) -> str | None:
    metadata = _mapping(pod.get("metadata"), "metadata")
    annotations = _mapping(metadata.get("annotations"), "metadata.annotations")
    spec = _mapping(pod.get("spec"), "spec")
    containers = _list(spec.get("containers"), "spec.containers")
    init_containers = _list(spec.get("initContainers"), "spec.initContainers")
    if annotations.get(STATUS_ANNOTATION) == STATUS_INJECTED:
        return SKIP_ALREADY_INJECTED
    if any(c.get("name") == SIDECAR_NAME for c in containers + init_containers):
        return SKIP_SIDECAR_PRESENT
    if str(annotations.get(INJECT_ANNOTATION, "")).strip().lower() == "false":
        return SKIP_OPTED_OUT
    if config.is_excluded_namespace(namespace):
        return SKIP_EXCLUDED_NAMESPACE
    if MIRROR_ANNOTATION in annotations:
        return SKIP_MIRROR_POD
    if config.skip_host_network and spec.get("hostNetwork") is True:
        return SKIP_HOST_NETWORK
    if not containers:  # the API server rejects such a pod anyway; a patch would only fail
        return SKIP_NO_CONTAINERS
    for container in containers + init_containers:
        for port in _list(container.get("ports"), "ports"):
            if port.get("containerPort") == config.port:
                return SKIP_PORT_CONFLICT
    return None


def _port_names(spec: Mapping[str, Any]) -> set[str]:
    names: set[str] = set()
    for key in ("containers", "initContainers"):
        for container in _list(spec.get(key), f"spec.{key}"):
            for port in _list(container.get("ports"), "ports"):
                if isinstance(port.get("name"), str):
                    names.add(port["name"])
    return names


def _annotation_ops(
    metadata: Mapping[str, Any], spec: Mapping[str, Any], config: WebhookConfig
) -> list[Op]:
    annotations = _mapping(metadata.get("annotations"), "metadata.annotations")
    wanted: dict[str, str] = {STATUS_ANNOTATION: STATUS_INJECTED}
    containers = _list(spec.get("containers"), "spec.containers")
    first = containers[0].get("name") if containers else None
    if (
        config.set_default_container
        and isinstance(first, str)
        and DEFAULT_CONTAINER_ANNOTATION not in annotations
    ):
        wanted[DEFAULT_CONTAINER_ANNOTATION] = first
    if metadata.get("annotations") is None:
        return [{"op": "add", "path": "/metadata/annotations", "value": wanted}]
    return [
        {"op": "add", "path": f"/metadata/annotations/{escape_pointer(key)}", "value": value}
        for key, value in wanted.items()
    ]


def build_patch(pod: Mapping[str, Any], config: WebhookConfig) -> list[Op]:
    """The ``add`` operations that inject the sidecar into ``pod`` (assumed not skipped)."""
    ops: list[Op] = []
    if not isinstance(pod.get("metadata"), Mapping):
        ops.append({"op": "add", "path": "/metadata", "value": {}})
        metadata: Mapping[str, Any] = {}
    else:
        metadata = pod["metadata"]
    spec = _mapping(pod.get("spec"), "spec")
    ops.extend(_annotation_ops(metadata, spec, config))

    existing_volumes = _list(spec.get("volumes"), "spec.volumes")
    taken = {v.get("name") for v in existing_volumes if isinstance(v.get("name"), str)}
    volumes, mounts = sidecar_volumes(config, taken)
    port_name = _unique_name(PORT_NAME, _port_names(spec))
    container = sidecar_container(config, mounts, port_name)

    if config.injection_mode == "native-sidecar":
        if "initContainers" in spec and spec["initContainers"] is not None:
            ops.append({"op": "add", "path": "/spec/initContainers/0", "value": container})
        else:
            ops.append({"op": "add", "path": "/spec/initContainers", "value": [container]})
    else:
        ops.append({"op": "add", "path": "/spec/containers/-", "value": container})

    if not volumes:
        return ops
    if "volumes" in spec and spec["volumes"] is not None:
        ops.extend({"op": "add", "path": "/spec/volumes/-", "value": v} for v in volumes)
    else:
        ops.append({"op": "add", "path": "/spec/volumes", "value": volumes})
    return ops


def decide(pod: Mapping[str, Any], namespace: str, config: WebhookConfig) -> Decision:
    """Skip with a reason, or inject with the patch; raises PodShapeError for a malformed pod."""
    if not isinstance(pod, Mapping):
        raise PodShapeError(f"the object must be a Pod object, got {type(pod).__name__}")
    if not isinstance(pod.get("spec"), Mapping):
        raise PodShapeError("the Pod has no spec object")
    reason = _skip_reason(pod, namespace, config)
    if reason is not None:
        return Decision(inject=False, reason=reason)
    return Decision(inject=True, reason="injected", patch=build_patch(pod, config))
