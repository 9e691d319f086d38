"""``sev-webhook certs``: a CA and the webhook Service's serving certificate, and the caBundle.

For operators who do not run cert-manager. Writes ``ca.crt``/``ca.key`` (reused when already in the
output folder, so the caBundle stays valid across rotations) and ``tls.crt``/``tls.key`` for
``<service>.<namespace>.svc``, then prints the base64 caBundle on stdout (the tls-self-managed
component puts it into the MutatingWebhookConfiguration). The certificate functions are shared with
``sev-webhook tls-bootstrap`` (tls_bootstrap.py), which does the same inside the cluster.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import ipaddress
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

EXIT_USAGE = 2


class CertsError(ValueError):
    """The output folder or an existing CA cannot be used."""


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def service_dns_names(service: str, namespace: str) -> list[str]:
    """The names the API server may use to reach the Service (it uses ``<svc>.<ns>.svc``)."""
    return [
        service,
        f"{service}.{namespace}",
        f"{service}.{namespace}.svc",
        f"{service}.{namespace}.svc.cluster.local",
    ]


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(common_name: str, now: datetime.datetime, days: int) -> Issued:
    """A self-signed P-256 CA that may sign only end-entity certificates."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


def make_serving_cert(
    ca: Issued,
    service: str,
    namespace: str,
    now: datetime.datetime,
    days: int,
    ip_addresses: Sequence[str] = (),
) -> Issued:
    """A P-256 serverAuth certificate for the Service (and any extra IPs), signed by ``ca``."""
    key = ec.generate_private_key(ec.SECP256R1())
    names = service_dns_names(service, namespace)
    alt_names: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    ca_ski = ca.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(names[2]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca.key, hashes.SHA256())
    )
    return Issued(cert, key)


def ca_bundle(ca_cert: x509.Certificate) -> str:
    """The MutatingWebhookConfiguration ``caBundle`` value: base64 of the CA's PEM."""
    return base64.b64encode(ca_cert.public_bytes(serialization.Encoding.PEM)).decode("ascii")


def ca_bundle_patch(configuration: dict[str, Any], bundle: str) -> list[dict[str, Any]]:
    """JSON-patch setting ``caBundle`` on every webhook of a MutatingWebhookConfiguration.

    Each write is guarded by a ``test`` of the webhook's name, so a configuration edited between
    read and patch makes the API server reject the patch instead of writing the wrong entry.
    """
    webhooks = configuration.get("webhooks") or []
    if not webhooks:
        raise CertsError("the MutatingWebhookConfiguration has no webhooks to patch")
    ops: list[dict[str, Any]] = []
    for index, webhook in enumerate(webhooks):
        ops.append({"op": "test", "path": f"/webhooks/{index}/name", "value": webhook["name"]})
        ops.append(
            {"op": "add", "path": f"/webhooks/{index}/clientConfig/caBundle", "value": bundle}
        )
    return ops


def write_file(path: Path, data: bytes, private: bool) -> None:
    temp = path.with_name(f".{path.name}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temp, path)


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _load_ca(cert_path: Path, key_path: Path) -> Issued:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise CertsError(f"cannot reuse the CA in {cert_path.parent}: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CertsError(f"{key_path} is not an EC private key")
    return Issued(cert, key)


def _ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an IP address") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sev-webhook certs",
        description="Create a CA and the webhook's serving certificate; print the caBundle.",
    )
    parser.add_argument(
        "--service", default="sev-webhook", help="Service name (default sev-webhook)"
    )
    parser.add_argument(
        "--namespace", default="sev-webhook", help="namespace (default sev-webhook)"
    )
    parser.add_argument("--out-dir", type=Path, required=True, help="folder for the four PEM files")
    parser.add_argument("--days", type=int, default=365, help="serving certificate validity")
    parser.add_argument("--ca-days", type=int, default=3650, help="CA validity (new CA only)")
    parser.add_argument(
        "--ip",
        action="append",
        default=[],
        type=_ip,
        help="extra IP address SAN (repeatable), for a webhook reached by URL at an IP",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``sev-webhook certs``."""
    args = _parser().parse_args(argv)
    if args.days < 1 or args.ca_days < 1:
        print("sev-webhook certs: --days and --ca-days must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    out: Path = args.out_dir
    now = datetime.datetime.now(datetime.UTC)
    try:
        out.mkdir(parents=True, exist_ok=True)
        ca_cert, ca_key = out / "ca.crt", out / "ca.key"
        if ca_cert.exists() and ca_key.exists():
            ca = _load_ca(ca_cert, ca_key)
            print(f"reusing the CA in {out}", file=sys.stderr)
        else:
            ca = make_ca(f"sev-webhook-ca.{args.namespace}", now, args.ca_days)
            write_file(ca_key, key_pem(ca.key), private=True)
            write_file(ca_cert, ca.cert.public_bytes(serialization.Encoding.PEM), private=False)
        serving = make_serving_cert(ca, args.service, args.namespace, now, args.days, args.ip)
        write_file(out / "tls.key", key_pem(serving.key), private=True)
        write_file(
            out / "tls.crt", serving.cert.public_bytes(serialization.Encoding.PEM), private=False
        )
    except (OSError, CertsError) as exc:
        print(f"sev-webhook certs: {exc}", file=sys.stderr)
        return EXIT_USAGE
    bundle = ca_bundle(ca.cert)
    print(bundle)
    return 0
