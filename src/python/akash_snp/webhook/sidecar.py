"""The injected container and its volumes, as raw Kubernetes JSON built from the config.

Pure functions: config (and the volume names already taken in the pod) in, plain dicts out. What
may appear where follows the Pod API: probes and ``restartPolicy: Always`` only on a native sidecar
or a regular container (this module never emits a plain init container).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from akash_snp.webhook.config import WebhookConfig

SIDECAR_NAME = "sev-attestation"
PORT_NAME = "sev-attest"
SEV_GUEST_DEVICE = "/dev/sev-guest"
CONFIGFS_PATH = "/sys/kernel/config"


def unique_name(base: str, taken: Collection[str]) -> str:
    """``base``, or ``base-N`` with the smallest N that is not already ``taken``."""
    if base not in taken:
        return base
    n = 1
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _security_context(config: WebhookConfig) -> dict[str, Any]:
    if config.device_access == "privileged":
        # root: /dev/sev-guest is root:root 0600 and configfs is root-owned (the image's user
        # is the unprivileged 65532)
        return {"privileged": True, "runAsUser": 0, "runAsNonRoot": False}
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": config.run_as_user != 0,
        "runAsUser": config.run_as_user,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _resources(config: WebhookConfig) -> dict[str, Any]:
    requests = dict(config.resources_requests)
    limits = dict(config.resources_limits)
    if config.device_access == "device-plugin":
        requests[config.device_plugin_resource] = "1"
        limits[config.device_plugin_resource] = "1"
    resources: dict[str, Any] = {}
    if requests:
        resources["requests"] = requests
    if limits:
        resources["limits"] = limits
    return resources


def _probe(path: str, config: WebhookConfig, period: int, failures: int = 3) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": config.port, "scheme": "HTTP"},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }


def _field_env(name: str, field_path: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"fieldRef": {"fieldPath": field_path}}}


def _env(config: WebhookConfig) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [
        _field_env("POD_NAME", "metadata.name"),
        _field_env("POD_NAMESPACE", "metadata.namespace"),
    ]
    if config.device_access == "agent":
        env.append(_field_env("HOST_IP", "status.hostIP"))
    reserved = {item["name"] for item in env}
    env.extend({"name": k, "value": v} for k, v in sorted(config.env.items()) if k not in reserved)
    return env


def _args(config: WebhookConfig) -> list[str]:
    common = [f"--port={config.port}", f"--interval={config.interval}"]
    if config.device_access == "agent":
        # a relay: the node agent verifies and fetches from KDS, so no --kds-url (the sidecar
        # refuses the verifier's flags); --interval stays, one setting for every mode (the
        # relay's /verify shows the agent's periodic attestation, at the agent's --interval).
        # $(HOST_IP) is expanded by the kubelet from the container's env
        return ["--provider=agent", f"--agent-url=http://$(HOST_IP):{config.agent_port}", *common]
    return [f"--provider={config.provider}", *common]


def sidecar_volumes(
    config: WebhookConfig, taken: Collection[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The pod volumes to add and the sidecar's mounts of them, with names not in ``taken``."""
    wanted: list[tuple[str, dict[str, Any], str]] = []
    if config.device_access == "privileged":
        device = {"hostPath": {"path": SEV_GUEST_DEVICE, "type": "CharDevice"}}
        wanted.append(("sev-guest", device, SEV_GUEST_DEVICE))
        if config.configfs_tsm:
            configfs = {"hostPath": {"path": CONFIGFS_PATH, "type": "Directory"}}
            wanted.append(("sev-configfs", configfs, CONFIGFS_PATH))
    used = set(taken)
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    for base, source, mount_path in wanted:
        name = unique_name(base, used)
        used.add(name)
        volumes.append({"name": name, **source})
        mounts.append({"name": name, "mountPath": mount_path})
    return volumes, mounts


def sidecar_container(
    config: WebhookConfig, mounts: list[dict[str, Any]], port_name: str = PORT_NAME
) -> dict[str, Any]:
    """The attestation container; a native sidecar unless the config asks for a regular one."""
    container: dict[str, Any] = {
        "name": SIDECAR_NAME,
        "image": config.image,
        "imagePullPolicy": config.image_pull_policy,
    }
    if config.injection_mode == "native-sidecar":
        container["restartPolicy"] = "Always"
    container["args"] = _args(config)
    container["env"] = _env(config)
    container["ports"] = [{"name": port_name, "containerPort": config.port, "protocol": "TCP"}]
    resources = _resources(config)
    if resources:
        container["resources"] = resources
    if config.probes:
        # every second while it starts (up to a minute on a loaded node): the kubelet probes
        # readiness at once when a container has started, so the pod is ready about a second
        # after the sidecar listens; afterwards readiness every 10 s is enough
        container["startupProbe"] = _probe("/healthz", config, period=1, failures=60)
        container["readinessProbe"] = _probe("/readyz", config, period=10)
        container["livenessProbe"] = _probe("/healthz", config, period=30)
    container["securityContext"] = _security_context(config)
    if mounts:
        container["volumeMounts"] = mounts
    return container
