"""Which pods carry the sidecar: every pod the webhook marked ``sev-attestation/status:
injected``, read page by page from the API server, with the state of its sidecar container.

Annotations cannot be selected server-side, so every pod is listed and filtered here; pages of
``PAGE_SIZE`` keep each answer bounded on large clusters.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from akash_snp.status.kube import KubeError, get
from akash_snp.webhook.patch import STATUS_ANNOTATION as ANNOTATION
from akash_snp.webhook.patch import STATUS_INJECTED as INJECTED
from akash_snp.webhook.sidecar import SIDECAR_NAME as SIDECAR

PAGE_SIZE = 500
MAX_PAGE_BYTES = 64 << 20
# waiting reasons of a container that is still being set up (not a failure yet)
STARTING = frozenset({"ContainerCreating", "PodInitializing"})


@dataclass(frozen=True)
class InjectedPod:
    """One injected pod and whether its sidecar can answer."""

    namespace: str
    name: str
    node: str
    phase: str
    sidecar_running: bool
    sidecar_state: str
    """``running``, or why not: the container's waiting/terminated reason, or the pod's phase."""
    starting: bool
    """Not running yet, but only because the pod is still being set up."""


def pods_path(namespace: str | None) -> str:
    """The pod list endpoint of one namespace, or of all."""
    return f"/api/v1/namespaces/{quote(namespace, safe='')}/pods" if namespace else "/api/v1/pods"


def list_injected(
    api: Any,
    namespace: str | None,
    timeout: float,
    on_page: Callable[[int], None] = lambda _: None,
) -> list[InjectedPod]:
    """Every injected pod in ``namespace`` (None: all namespaces), sorted by namespace and name;
    ``on_page`` gets the number of pods seen so far after each page. ``KubeError`` when the API
    server refuses (for example RBAC) or does not answer."""
    found: list[InjectedPod] = []
    seen = 0
    token = ""
    while True:
        query = [("limit", str(PAGE_SIZE))] + ([("continue", token)] if token else [])
        answer = get(api, pods_path(namespace), query, timeout, MAX_PAGE_BYTES)
        if answer.status != 200:
            raise KubeError(f"listing pods: HTTP {answer.status}: {status_message(answer.body)}")
        try:
            page = json.loads(answer.body)
            items = page["items"] or []
            token = (page.get("metadata") or {}).get("continue") or ""
        except (ValueError, KeyError, TypeError, AttributeError):
            raise KubeError("listing pods: the API server's answer is not a pod list") from None
        seen += len(items)
        found.extend(pod for pod in map(injected_pod, items) if pod is not None)
        on_page(seen)
        if not token:
            return sorted(found, key=lambda p: (p.namespace, p.name))


def injected_pod(item: dict[str, Any]) -> InjectedPod | None:
    """The ``InjectedPod`` for one pod object of a list, or None when it is not injected."""
    metadata = item.get("metadata") or {}
    if (metadata.get("annotations") or {}).get(ANNOTATION) != INJECTED:
        return None
    status = item.get("status") or {}
    phase = str(status.get("phase") or "Unknown")
    statuses = (status.get("initContainerStatuses") or []) + (
        status.get("containerStatuses") or []
    )
    mine = next((s for s in statuses if s.get("name") == SIDECAR), None)
    state = (mine or {}).get("state") or {}
    running = "running" in state and phase == "Running"
    if running:
        why = "running"
    elif "waiting" in state or "terminated" in state:
        detail = state.get("waiting") or state.get("terminated") or {}
        why = str(detail.get("reason") or ("waiting" if "waiting" in state else "terminated"))
    else:
        why = f"pod {phase}" if mine is not None else f"pod {phase}, no {SIDECAR} container status"
    starting = phase == "Pending" and (mine is None or why in STARTING)
    return InjectedPod(
        namespace=str(metadata.get("namespace") or ""),
        name=str(metadata.get("name") or ""),
        node=str((item.get("spec") or {}).get("nodeName") or ""),
        phase=phase,
        sidecar_running=running,
        sidecar_state=why,
        starting=starting,
    )


def status_message(body: bytes) -> str:
    """The ``message`` of a Kubernetes Status answer, else the start of the body."""
    try:
        value = json.loads(body)
    except ValueError:
        value = None
    if isinstance(value, dict) and isinstance(value.get("message"), str):
        return " ".join(value["message"].split())[:300]
    return " ".join(body[:200].decode("utf-8", "replace").split())
