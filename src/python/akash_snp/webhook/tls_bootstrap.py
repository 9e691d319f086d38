"""``sev-webhook tls-bootstrap``: the webhook's TLS without cert-manager, as an init container.

Each webhook pod, before the webhook starts:

1. reads the CA from Secret ``--ca-secret`` in its namespace, creating it when absent (of pods that
   start together the first create wins; the others get 409 Conflict and read the winner's CA);
2. issues its own serving certificate for the Service, signed by that CA, into ``--out-dir`` (an
   emptyDir that only this pod's webhook container mounts);
3. makes the CA the ``caBundle`` of every webhook in the MutatingWebhookConfiguration (a patch
   only when it differs; waits for the object, which ``kubectl apply`` creates last).

The CA key stays in the Secret and in this init container: the webhook container has no token
and no API rights. Rotation: delete the Secret and restart the Deployment (docs/deploy.md).
"""

from __future__ import annotations

import argparse
import base64
import datetime
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from akash_snp.webhook.certs_command import (
    CertsError,
    Issued,
    ca_bundle,
    ca_bundle_patch,
    key_pem,
    make_ca,
    make_serving_cert,
    write_file,
)
from akash_snp.webhook.kube_api import KubeApi, KubeApiError

EXIT_FAILURE = 1
EXIT_USAGE = 2
CA_DAYS = 3650
MIN_CA_DAYS_LEFT = 30
HTTP_NOT_FOUND = 404
HTTP_CONFLICT = 409
HTTP_INVALID = 422

Log = Callable[[str], None]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def ca_secret(name: str, namespace: str, ca: Issued) -> dict[str, Any]:
    """The Secret that holds the CA (a ``kubernetes.io/tls`` Secret: certificate and key)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/name": "sev-webhook"},
        },
        "type": "kubernetes.io/tls",
        "data": {
            "tls.crt": _b64(ca.cert.public_bytes(serialization.Encoding.PEM)),
            "tls.key": _b64(key_pem(ca.key)),
        },
    }


def ca_from_secret(secret: dict[str, Any], now: datetime.datetime) -> Issued:
    """The CA in a Secret made by ``ca_secret``; refused when unreadable or about to expire."""
    name = secret.get("metadata", {}).get("name", "?")
    try:
        data = secret["data"]
        cert = x509.load_pem_x509_certificate(base64.b64decode(data["tls.crt"]))
        key = serialization.load_pem_private_key(base64.b64decode(data["tls.key"]), password=None)
    except (KeyError, TypeError, ValueError) as exc:
        raise CertsError(
            f"Secret {name} does not hold a PEM CA certificate and key: {exc}"
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CertsError(f"Secret {name}: the CA key is not an EC key")
    if cert.not_valid_after_utc - now < datetime.timedelta(days=MIN_CA_DAYS_LEFT):
        raise CertsError(
            f"Secret {name}: the CA expires {cert.not_valid_after_utc:%Y-%m-%d}; delete the Secret "
            "and restart the webhook Deployment to make a new one"
        )
    return Issued(cert, key)


def ensure_ca(api: KubeApi, namespace: str, name: str, now: datetime.datetime, log: Log) -> Issued:
    """The CA from the Secret, made and stored first when there is none."""
    path = f"/api/v1/namespaces/{namespace}/secrets/{name}"
    try:
        return ca_from_secret(api.request("GET", path), now)
    except KubeApiError as exc:
        if exc.status != HTTP_NOT_FOUND:
            raise
    ca = make_ca(f"sev-webhook-ca.{namespace}", now, CA_DAYS)
    try:
        api.request(
            "POST", f"/api/v1/namespaces/{namespace}/secrets", ca_secret(name, namespace, ca)
        )
    except KubeApiError as exc:
        if exc.status != HTTP_CONFLICT:
            raise
        log(f"Secret {name} was created by another replica; using its CA")
        return ca_from_secret(api.request("GET", path), now)
    log(f"created the CA in Secret {namespace}/{name}")
    return ca


def _bundles(configuration: dict[str, Any]) -> list[str | None]:
    return [
        (w.get("clientConfig") or {}).get("caBundle") for w in configuration.get("webhooks") or []
    ]


def ensure_ca_bundle(
    api: KubeApi, name: str, bundle: str, deadline: float, log: Log, pause: float = 1.0
) -> None:
    """Make ``bundle`` the caBundle of every webhook of the MutatingWebhookConfiguration; wait
    (until ``deadline``, a monotonic time) for it to exist, and retry a patch whose guarding
    ``test`` failed because the object changed in between."""
    path = f"/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/{name}"
    while True:
        try:
            live = api.request("GET", path)
            if live.get("webhooks") and all(b == bundle for b in _bundles(live)):
                log(f"caBundle of MutatingWebhookConfiguration {name} is current")
                return
            api.request(
                "PATCH",
                path,
                ca_bundle_patch(live, bundle),
                content_type="application/json-patch+json",
            )
            log(f"patched the caBundle of MutatingWebhookConfiguration {name}")
            return
        except KubeApiError as exc:
            if exc.status not in (HTTP_NOT_FOUND, HTTP_INVALID) or time.monotonic() > deadline:
                raise
            log(f"waiting for MutatingWebhookConfiguration {name}: {exc}")
        time.sleep(pause)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sev-webhook tls-bootstrap",
        description="Init container: make sure the CA Secret exists, issue this pod's serving "
        "certificate into --out-dir, and set the caBundle of the MutatingWebhookConfiguration.",
    )
    parser.add_argument(
        "--out-dir", type=Path, required=True, help="folder for tls.crt and tls.key"
    )
    parser.add_argument(
        "--service", default="sev-webhook", help="Service name (default sev-webhook)"
    )
    parser.add_argument(
        "--namespace",
        default=os.environ.get("POD_NAMESPACE", "sev-webhook"),
        help="namespace of the Service and the CA Secret (default $POD_NAMESPACE)",
    )
    parser.add_argument(
        "--ca-secret",
        default="sev-webhook-ca",
        help="Secret holding the CA (default sev-webhook-ca)",
    )
    parser.add_argument(
        "--webhook-configuration",
        default="sev-webhook",
        help="MutatingWebhookConfiguration whose caBundle is set (default sev-webhook)",
    )
    parser.add_argument(
        "--wait", type=float, default=120.0, help="seconds to wait for that object (default 120)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``sev-webhook tls-bootstrap``: one line per step on stderr."""
    args = _parser().parse_args(argv)

    def log(message: str) -> None:
        print(f"sev-webhook tls-bootstrap: {message}", file=sys.stderr, flush=True)

    now = datetime.datetime.now(datetime.UTC)
    try:
        api = KubeApi.in_cluster()
        ca = ensure_ca(api, args.namespace, args.ca_secret, now, log)
        serving = make_serving_cert(
            ca, args.service, args.namespace, now, (ca.cert.not_valid_after_utc - now).days
        )
        args.out_dir.mkdir(parents=True, exist_ok=True)
        write_file(args.out_dir / "tls.key", key_pem(serving.key), private=True)
        write_file(
            args.out_dir / "tls.crt",
            serving.cert.public_bytes(serialization.Encoding.PEM),
            private=False,
        )
        log(f"wrote the serving certificate for {args.service}.{args.namespace}.svc")
        deadline = time.monotonic() + args.wait
        ensure_ca_bundle(api, args.webhook_configuration, ca_bundle(ca.cert), deadline, log)
    except (KubeApiError, CertsError, OSError) as exc:
        log(f"failed: {exc}")
        return EXIT_FAILURE
    return 0
