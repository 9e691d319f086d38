"""Plain helpers over rendered manifests (lists of dicts): validation, lookup, selectors."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes_validate import utils as kv

from akash_snp.attest.policy import load_policy
from akash_snp.webhook.config import ConfigSource, WebhookConfig
from akash_snp.webhook.sidecar import sidecar_container, sidecar_volumes

Doc = dict[str, Any]

FAMILIES = {  # as documented in docs/deploy.md
    "m7a": "Genoa",
    "r7a": "Genoa",
    "c7a": "Genoa",
    "m6a": "Milan",
    "r6a": "Milan",
    "c6a": "Milan",
}
# Native sidecars need 1.29; the oldest and newest schemas the validator has that we claim.
KUBERNETES_VERSIONS = ("1.30.0", "1.36.0")
# Kinds with no bundled schema (cert-manager and Prometheus Operator CRDs): checked
# structurally by the tests instead (components_test.py, monitoring.py).
CRD_KINDS = {
    ("cert-manager.io/v1", "Certificate"),
    ("cert-manager.io/v1", "Issuer"),
    ("monitoring.coreos.com/v1", "PodMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
}


def validation_errors(docs: list[Doc]) -> list[str]:
    """Strict schema errors for every object in every checked Kubernetes version; objects
    without a bundled schema must be one of the expected CRD kinds."""
    errors: list[str] = []
    for version in KUBERNETES_VERSIONS:
        for doc in docs:
            name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
            try:
                kv.validate(doc, version, strict=True)
            except kv.SchemaNotFoundError:
                if (doc.get("apiVersion"), doc.get("kind")) not in CRD_KINDS:
                    errors.append(f"{version} {name}: no schema and not an expected CRD kind")
            except kv.ValidationError as exc:
                path = ".".join(str(p) for p in exc.path)
                errors.append(f"{version} {name}: {path}: {exc.message}")
    return errors


def find(docs: list[Doc], kind: str, name: str | None = None) -> list[Doc]:
    """The objects of ``kind`` (and ``name``)."""
    return [
        d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)
    ]


def one(docs: list[Doc], kind: str, name: str | None = None) -> Doc:
    """The single object of ``kind`` (and ``name``)."""
    found = find(docs, kind, name)
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def selector_matches(selector: Doc, labels: dict[str, str]) -> bool:
    """Kubernetes LabelSelector semantics (matchLabels AND every matchExpression)."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        present = key in labels
        ok = {
            "In": present and labels.get(key) in values,
            "NotIn": not present or labels.get(key) not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }[op]
        if not ok:
            return False
    return True


def workload_containers(docs: list[Doc]) -> Iterator[tuple[str, Doc]]:
    """(owner, container) for every container and init container of every workload."""
    for doc in docs:
        if doc["kind"] in {"Deployment", "DaemonSet", "StatefulSet", "Job"}:
            spec = doc["spec"]["template"]["spec"]
            for container in spec.get("containers", []) + spec.get("initContainers", []):
                yield f"{doc['kind']}/{doc['metadata']['name']}", container


DIGEST_REF = re.compile(r"^(?P<repo>[^@\s]+)@sha256:[0-9a-f]{64}$")
RBAC_KINDS = {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}
CLUSTER_SCOPED = {"Namespace", "MutatingWebhookConfiguration", "ClusterRole", "ClusterRoleBinding"}


@dataclass(frozen=True)
class Expect:
    """What one rendered variant must deploy."""

    family: str
    product: str
    tls: str = "bootstrap"  # or "cert-manager", "self-managed"
    device_access: str = "agent"  # or "device-plugin"
    injection_mode: str = "native-sidecar"  # or "container"
    ca_bundle: str | None = None  # self-managed: what `sev-webhook certs` printed


def _pod_spec(doc: Doc) -> Doc:
    spec: Doc = doc["spec"]["template"]["spec"]
    return spec


def _arg(container: Doc, flag: str) -> str:
    values = [a.split("=", 1)[1] for a in container.get("args", []) if a.startswith(flag + "=")]
    assert len(values) == 1, f"{container['name']}: expected one {flag}=..., got {values}"
    return str(values[0])


def _check_webhook_configuration(docs: list[Doc], namespace: str, config: WebhookConfig) -> None:
    mwc = one(docs, "MutatingWebhookConfiguration")
    service = one(docs, "Service", "sev-webhook")
    assert mwc["webhooks"], "no webhooks"
    for hook in mwc["webhooks"]:
        assert hook["sideEffects"] == "None"
        assert "v1" in hook["admissionReviewVersions"]
        assert 1 <= hook["timeoutSeconds"] <= 30
        assert hook["failurePolicy"] == "Fail", "fail closed"
        assert config.on_error == "deny", "the webhook must fail closed like the API server"
        assert hook["rules"] == [
            {
                "operations": ["CREATE"],
                "apiGroups": [""],
                "apiVersions": ["v1"],
                "resources": ["pods"],
                "scope": "Namespaced",
            }
        ]
        target = hook["clientConfig"]["service"]
        assert (target["name"], target["namespace"]) == (service["metadata"]["name"], namespace)
        assert target["path"] == "/mutate"
        assert target["port"] in {p["port"] for p in service["spec"]["ports"]}
        selector = hook["namespaceSelector"]
        for excluded in (namespace, "kube-system", "kube-node-lease", "kube-public"):
            labels = {"kubernetes.io/metadata.name": excluded, "akash.network": "true"}
            assert not selector_matches(selector, labels), f"webhook matches namespace {excluded}"
        lease = {"kubernetes.io/metadata.name": "5ma8mnfu4b0", "akash.network": "true"}
        assert selector_matches(selector, lease), "webhook misses Akash lease namespaces"
        assert not selector_matches(selector, {"kubernetes.io/metadata.name": "default"})
        pods = hook["objectSelector"]
        assert selector_matches(pods, {"akash.network": "true"})
        assert not selector_matches(pods, {"sev-attestation/inject": "false"}), "no opt-out"


def _check_webhook_deployment(docs: list[Doc], namespace: str) -> Doc:
    deployment = one(docs, "Deployment", "sev-webhook")
    assert deployment["metadata"]["namespace"] == namespace
    assert deployment["spec"]["replicas"] >= 2
    spec = _pod_spec(deployment)
    assert spec["automountServiceAccountToken"] is False
    assert spec["affinity"]["podAntiAffinity"], "replicas are not spread"
    pod_security = spec["securityContext"]
    assert pod_security["runAsNonRoot"] is True
    assert pod_security["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = spec["containers"]
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"]["drop"] == ["ALL"]
    assert "memory" in container["resources"]["limits"]
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    port = int(_arg(container, "--port"))
    assert [p["containerPort"] for p in container["ports"]] == [port]
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        assert container[probe]["httpGet"]["path"] == path
        assert container[probe]["httpGet"]["scheme"] == "HTTPS"
    # graceful drain: served while kube-proxy forgets the endpoint, then the in-flight requests
    # (at most 10 s, akash_snp.serving.server.Limits.graceful), all within the grace period
    drain = float(_arg(container, "--drain-seconds"))
    assert 2 <= drain <= spec["terminationGracePeriodSeconds"] - 10 - 2
    assert "lifecycle" not in container, "the drain is the server's, after SIGTERM"
    env = {e["name"]: e for e in container["env"]}
    assert env["POD_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    service = one(docs, "Service", "sev-webhook")
    assert selector_matches({"matchLabels": service["spec"]["selector"]}, spec_labels(deployment))
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert all(ports.get(p["targetPort"]) == port for p in service["spec"]["ports"])
    pdb = one(docs, "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1
    assert selector_matches(pdb["spec"]["selector"], spec_labels(deployment))
    _check_network_policy(one(docs, "NetworkPolicy", "sev-webhook"), deployment, port)
    return deployment


# k3s's default cluster (pod) CIDR. Pods get addresses from .2 up in each node's /24; .0 is the
# node's flannel.1 address and .1 its cni0 bridge, the sources of the API server's connections.
K3S_CLUSTER_CIDR = ipaddress.ip_network("10.42.0.0/16")


def _check_network_policy(policy: Doc, deployment: Doc, port: int) -> None:
    """Only the API server's addresses reach the webhook, on its port; nothing leaves it."""
    assert selector_matches(policy["spec"]["podSelector"], spec_labels(deployment))
    # egress only for the TLS bootstrap's API calls (checked in _check_bootstrap)
    assert policy["spec"]["egress"] in ([], [API_SERVER_EGRESS])
    assert {"Ingress", "Egress"} <= set(policy["spec"]["policyTypes"])
    rules = policy["spec"]["ingress"]
    assert [p["port"] for rule in rules for p in rule["ports"]] == [port]
    for rule in rules:
        assert rule.get("from"), "an ingress rule without 'from' admits every pod"
        for peer in rule["from"]:
            assert set(peer) == {"ipBlock"}, f"selectors can match tenant pods: {peer}"
            network = ipaddress.ip_network(peer["ipBlock"]["cidr"])
            assert network.prefixlen > 0, "an ipBlock for every address admits tenant pods"
            if network.version == 4 and network.overlaps(K3S_CLUSTER_CIDR):
                assert all(int(address) % 256 in (0, 1) for address in network), (
                    f"{network} holds pod addresses"
                )


def spec_labels(workload: Doc) -> dict[str, str]:
    """The labels of a workload's pods."""
    labels: dict[str, str] = workload["spec"]["template"]["metadata"]["labels"]
    return labels


# The settings components and overlays change: ConfigMap keys of their own (whole values), never
# edited inside config.yaml.
VARYING_SETTINGS = {"image", "device_access", "injection_mode"}


def _mount_config_map(directory: Path, data: dict[str, str]) -> None:
    """Write a ConfigMap volume as the kubelet does: one file per key in a timestamped directory,
    the ``..data`` symlink to it, and one ``key -> ..data/key`` symlink per key."""
    directory.mkdir()
    version = directory / "..2026_01_01_00_00_00.000000001"
    version.mkdir()
    for key, text in data.items():
        (version / key).write_text(text, encoding="utf-8")
        os.symlink(f"..data/{key}", directory / key)
    os.symlink(version.name, directory / "..data")


def _mounted_config(deployment: Doc, docs: list[Doc], workdir: Path) -> Path:
    """Mount the ConfigMap behind --config in ``workdir`` as the kubelet would; return the path
    the webhook is given."""
    spec = _pod_spec(deployment)
    container = spec["containers"][0]
    config_dir = _arg(container, "--config")
    mounts = container["volumeMounts"]
    mount = next(m for m in mounts if m["mountPath"] == config_dir)
    assert "subPath" not in mount, "a subPath mount never sees ConfigMap updates"
    assert not [
        m for m in mounts if m["mountPath"].startswith(config_dir + "/")
    ], "a mount inside the settings directory would be an unknown setting"
    volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
    assert "items" not in volume["configMap"], "every key of the ConfigMap must reach the webhook"
    config_map = one(docs, "ConfigMap", volume["configMap"]["name"])
    assert config_map["metadata"]["namespace"] == deployment["metadata"]["namespace"]
    data: dict[str, str] = config_map["data"]
    assert set(data) >= VARYING_SETTINGS, "the varying settings are keys of their own"
    settings = yaml.safe_load(data["config.yaml"])
    assert not VARYING_SETTINGS & set(settings), "config.yaml repeats a varying setting"
    target = workdir / "sev-webhook-config"
    _mount_config_map(target, data)
    return target


def _check_injected_pod(config: WebhookConfig, expect: Expect) -> Doc:
    """The container the webhook will inject with these settings, in a pod that must validate."""
    volumes, mounts = sidecar_volumes(config, taken=())
    sidecar = sidecar_container(config, mounts)
    tenant = {"name": "web", "image": "nginx@sha256:" + "1" * 64}
    spec: Doc = {"containers": [tenant], "volumes": volumes}
    if expect.injection_mode == "native-sidecar":
        assert sidecar["restartPolicy"] == "Always"
        spec["initContainers"] = [sidecar]
    else:
        spec["containers"].append(sidecar)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "tenant"}, "spec": spec}
    assert validation_errors([pod]) == []
    return sidecar


# What `sev-webhook tls-bootstrap` may do, and nothing more (components/tls-bootstrap/rbac.yaml).
BOOTSTRAP_RULES = {
    "Role": [
        {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["sev-webhook-ca"],
         "verbs": ["get"]},
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
    ],
    "ClusterRole": [
        {"apiGroups": ["admissionregistration.k8s.io"],
         "resources": ["mutatingwebhookconfigurations"], "resourceNames": ["sev-webhook"],
         "verbs": ["get", "patch"]},
    ],
}


def _check_rbac(docs: list[Doc], namespace: str, expect: Expect) -> None:
    rbac = [d for d in docs if d["kind"] in RBAC_KINDS]
    if expect.tls != "bootstrap":
        assert not rbac, "the webhook needs no RBAC"
        return
    assert sorted(d["kind"] for d in rbac) == sorted(RBAC_KINDS)
    for kind, rules in BOOTSTRAP_RULES.items():
        assert one(docs, kind)["rules"] == rules
    for kind in ("RoleBinding", "ClusterRoleBinding"):
        binding = one(docs, kind)
        role = one(docs, kind.removesuffix("Binding"))
        assert binding["roleRef"]["name"] == role["metadata"]["name"]
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "sev-webhook", "namespace": namespace}
        ]


API_SERVER_EGRESS = {
    "ports": [{"port": 443, "protocol": "TCP"}, {"port": 6443, "protocol": "TCP"}]
}


def _check_bootstrap(docs: list[Doc], deployment: Doc, tls_volume: Doc) -> None:
    """Only the init container holds API credentials; the webhook reads what it wrote."""
    spec = _pod_spec(deployment)
    assert "emptyDir" in tls_volume
    assert "secret" not in tls_volume
    (init,) = spec["initContainers"]
    assert init["args"][0] == "tls-bootstrap"
    assert init["image"] == spec["containers"][0]["image"]
    out_dir = _arg(init, "--out-dir")
    mounts = {m["mountPath"]: m["name"] for m in init["volumeMounts"]}
    assert mounts[out_dir] == "tls"
    token_volume = mounts["/var/run/secrets/kubernetes.io/serviceaccount"]
    sources = next(v for v in spec["volumes"] if v["name"] == token_volume)["projected"]["sources"]
    assert any("serviceAccountToken" in s for s in sources)
    webhook_mounts = {m["name"] for m in spec["containers"][0]["volumeMounts"]}
    assert token_volume not in webhook_mounts, "the webhook container must hold no token"
    assert init["securityContext"]["allowPrivilegeEscalation"] is False
    assert not find(docs, "Secret")
    assert not find(docs, "Certificate")
    assert one(docs, "NetworkPolicy", "sev-webhook")["spec"]["egress"] == [API_SERVER_EGRESS]


def _check_tls(docs: list[Doc], deployment: Doc, namespace: str, expect: Expect) -> None:
    spec = _pod_spec(deployment)
    tls_volume = next(v for v in spec["volumes"] if v["name"] == "tls")
    mwc = one(docs, "MutatingWebhookConfiguration")
    service_dns = f"sev-webhook.{namespace}.svc"
    if expect.tls == "bootstrap":
        _check_bootstrap(docs, deployment, tls_volume)
        assert all("caBundle" not in h["clientConfig"] for h in mwc["webhooks"])
        return
    assert "initContainers" not in spec
    assert one(docs, "NetworkPolicy", "sev-webhook")["spec"]["egress"] == []
    secret_name = tls_volume["secret"]["secretName"]
    if expect.tls == "cert-manager":
        assert not find(docs, "Secret")
        certificate = next(
            c for c in find(docs, "Certificate") if c["spec"]["secretName"] == secret_name
        )
        assert service_dns in certificate["spec"]["dnsNames"]
        assert mwc["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] == (
            f"{namespace}/{certificate['metadata']['name']}"
        )
        issuers = {i["metadata"]["name"]: i for i in find(docs, "Issuer")}
        ca_issuer = issuers[certificate["spec"]["issuerRef"]["name"]]
        ca_certificate = one(docs, "Certificate", "sev-webhook-ca")
        assert ca_issuer["spec"]["ca"]["secretName"] == ca_certificate["spec"]["secretName"]
        assert ca_certificate["spec"]["isCA"] is True
        assert "selfSigned" in issuers[ca_certificate["spec"]["issuerRef"]["name"]]["spec"]
        assert all("caBundle" not in h["clientConfig"] for h in mwc["webhooks"])
    else:
        assert not find(docs, "Certificate")
        assert not find(docs, "Issuer")
        secret = one(docs, "Secret", secret_name)
        assert secret["metadata"]["namespace"] == namespace
        assert secret["type"] == "kubernetes.io/tls"
        assert sorted(secret["data"]) == ["ca.crt", "tls.crt", "tls.key"], "ca.key leaked?"
        # kustomize wraps base64 at 76 columns; the API server's decoder skips the newlines
        bundles = ["".join(h["clientConfig"]["caBundle"].split()) for h in mwc["webhooks"]]
        assert bundles == [expect.ca_bundle]


def _check_placement(docs: list[Doc], expect: Expect) -> None:
    for workload in find(docs, "Deployment") + find(docs, "DaemonSet"):
        terms = _pod_spec(workload)["affinity"]["nodeAffinity"][
            "requiredDuringSchedulingIgnoredDuringExecution"
        ]["nodeSelectorTerms"]
        exprs = {e["key"]: e for t in terms for e in t["matchExpressions"]}
        instance_types = exprs["node.kubernetes.io/instance-type"]["values"]
        assert instance_types
        assert all(t.startswith(expect.family + ".") for t in instance_types)
        assert exprs["sev.akash.network/instance-family"]["values"] == [expect.family]
        assert spec_labels(workload)["sev.akash.network/amd-product"] == expect.product
        assert workload["metadata"]["labels"]["sev.akash.network/amd-product"] == expect.product
    policy_map = one(docs, "ConfigMap", "sev-attestation-tenant-policy")
    policy = load_policy(policy_map["data"]["policy.yaml"].encode())
    assert [p.value for p in policy.allowed_products] == [expect.product]


def _check_agent(docs: list[Doc], config: WebhookConfig, sidecar: Doc) -> None:
    """The agent holds the device access; the injected sidecar holds none and finds the agent."""
    agent = one(docs, "DaemonSet", "sev-attestation-agent")
    spec = _pod_spec(agent)
    assert spec["hostNetwork"] is True
    (container,) = spec["containers"]
    assert container["args"][0] == "agent"
    assert int(_arg(container, "--port")) == config.agent_port
    assert [p["hostPort"] for p in container["ports"]] == [config.agent_port]
    assert container["securityContext"]["privileged"] is True
    host_paths = [v["hostPath"] for v in spec["volumes"] if "hostPath" in v]
    assert host_paths == [{"path": "/sys/kernel", "type": "Directory"}], "paths that always exist"
    _pinned_repository(container["image"])
    assert _pinned_repository(container["image"]) == _pinned_repository(config.image)
    namespace = agent["metadata"]["namespace"]
    assert namespace != one(docs, "Deployment", "sev-webhook")["metadata"]["namespace"]
    labels = one(docs, "Namespace", namespace)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
    security = sidecar["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"]["drop"] == ["ALL"]
    assert "volumeMounts" not in sidecar
    assert _arg(sidecar, "--agent-url") == f"http://$(HOST_IP):{config.agent_port}"
    env = {e["name"]: e for e in sidecar["env"]}
    assert env["HOST_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.hostIP"


def _check_device_access(docs: list[Doc], config: WebhookConfig, sidecar: Doc) -> None:
    if config.device_access == "agent":
        _check_agent(docs, config, sidecar)
        return
    (plugin,) = find(docs, "DaemonSet")
    (container,) = _pod_spec(plugin)["containers"]
    args = container["args"]
    domain = _arg(container, "--domain")
    device = yaml.safe_load(args[args.index("--device") + 1])
    assert [p["path"] for g in device["groups"] for p in g["paths"]] == ["/dev/sev-guest"]
    advertised = f"{domain}/{device['name']}"
    assert advertised == config.device_plugin_resource
    assert sidecar["resources"]["limits"][advertised] == "1"
    assert sidecar["securityContext"]["allowPrivilegeEscalation"] is False
    namespace = plugin["metadata"]["namespace"]
    assert namespace != one(docs, "Deployment", "sev-webhook")["metadata"]["namespace"]
    ns = one(docs, "Namespace", namespace)
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"


def _pinned_repository(image: str) -> str:
    """The repository of a digest-pinned image reference."""
    match = DIGEST_REF.match(image)
    assert match, f"{image} is not pinned by digest"
    return match.group("repo")


def assert_invariants(docs: list[Doc], expect: Expect, workdir: Path) -> None:
    """Every property the deployment guide promises, on one rendered variant."""
    assert validation_errors(docs) == []
    _check_rbac(docs, "sev-webhook", expect)
    deployment = _check_webhook_deployment(docs, "sev-webhook")
    namespace = deployment["metadata"]["namespace"]
    own = one(docs, "Namespace", namespace)
    assert own["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for doc in docs:
        if doc["kind"] not in CLUSTER_SCOPED:
            assert doc["metadata"].get("namespace"), f"{doc['kind']} has no namespace"

    mounted = _mounted_config(deployment, docs, workdir)
    config = ConfigSource(mounted, own_namespace=namespace).current()  # as main() does
    assert config.is_excluded_namespace(namespace)
    assert config.is_excluded_namespace("kube-system")
    assert (config.device_access, config.injection_mode) == (
        expect.device_access,
        expect.injection_mode,
    )
    assert (config.port, config.provider) == (8790, "auto")
    _check_webhook_configuration(docs, namespace, config)

    for _, container in workload_containers(docs):
        _pinned_repository(container["image"])
    webhook_image = _pod_spec(deployment)["containers"][0]["image"]
    assert _pinned_repository(webhook_image).rsplit("/", 1)[-1] == "sev-webhook"
    assert _pinned_repository(config.image).rsplit("/", 1)[-1] == "sev-attestation"

    sidecar = _check_injected_pod(config, expect)
    assert sidecar["image"] == config.image
    _check_device_access(docs, config, sidecar)
    _check_tls(docs, deployment, namespace, expect)
    _check_placement(docs, expect)
