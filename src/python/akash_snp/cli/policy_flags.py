"""Flags shared by every verifying subcommand (``report`` and ``url``): time, policy, KDS, roots.

``add_verification_flags`` declares them; ``verification_options`` turns parsed arguments into the
plain values ``attest.verify.verify_attestation`` takes. Errors are ``CliInputError`` (exit 2).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from cryptography import x509

from akash_snp.attest.certs import CertRole, load_certificates
from akash_snp.attest.constants import KDS_BASE_URL, Product
from akash_snp.attest.errors import AttestError
from akash_snp.attest.kds import KdsClient, KdsSettings
from akash_snp.attest.policy import Policy, load_policy


class CliInputError(Exception):
    """Unusable command-line input (a file that cannot be read or understood): exit code 2."""


@dataclass(frozen=True)
class VerificationOptions:
    """Everything a subcommand passes to ``verify_attestation`` besides the evidence."""

    policy: Policy
    at: datetime
    kds: KdsClient
    extra_roots: tuple[x509.Certificate, ...]
    crls: tuple[bytes, ...]
    product: Product | None
    json: bool


def add_verification_flags(parser: argparse.ArgumentParser) -> None:
    """Declare --crl, --product, --at, --policy, --offline, --kds-url, --kds-cache, --trust-ark,
    --json."""
    parser.add_argument(
        "--crl",
        action="append",
        default=[],
        metavar="FILE",
        type=Path,
        help="CRL from KDS (repeatable), DER or PEM",
    )
    parser.add_argument(
        "--product",
        choices=[product.value for product in Product],
        help="AMD product line, for version 2 reports (no CPUID) without their endorsement "
        "certificate; v3+ reports carry it",
    )
    parser.add_argument(
        "--at",
        metavar="ISO8601",
        help="verification time, e.g. 2025-06-01T00:00:00Z (default: now)",
    )
    parser.add_argument(
        "--policy",
        metavar="FILE",
        type=Path,
        help="acceptability policy, YAML or JSON (default: safe defaults)",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="never contact AMD KDS; missing certificates are an error",
    )
    parser.add_argument(
        "--kds-url",
        metavar="URL",
        default=KDS_BASE_URL,
        help=f"KDS base URL (default {KDS_BASE_URL})",
    )
    parser.add_argument(
        "--kds-cache",
        metavar="DIR",
        type=Path,
        help="directory caching KDS answers (read in --offline mode)",
    )
    parser.add_argument(
        "--trust-ark",
        metavar="FILE",
        type=Path,
        action="append",
        default=[],
        help="an extra trusted root (emulated/test PKI); AMD's roots are pinned",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


# Certificates, certificate tables, CRLs, roots and policies are a few kilobytes each; the cap
# keeps `--certs /dev/zero` or a mistaken multi-gigabyte file from exhausting memory.
MAX_INPUT_BYTES = 1024 * 1024


def read_file(path: Path, what: str, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The file's content, at most ``limit`` bytes (more is an error: the file is not ``what``)."""
    try:
        with path.open("rb") as stream:
            data = stream.read(limit + 1)
    except OSError as error:
        raise CliInputError(f"cannot read {what} {path}: {error.strerror or error}") from error
    if len(data) > limit:
        raise CliInputError(f"{what} {path} is larger than {limit} bytes: not a {what}")
    return data


def _parse_time(text: str | None) -> datetime:
    if text is None:
        return datetime.now(timezone.utc)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise CliInputError(f"--at {text!r} is not an ISO 8601 time") from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _roots(paths: list[Path]) -> tuple[x509.Certificate, ...]:
    roots: list[x509.Certificate] = []
    for path in paths:
        try:
            loaded = load_certificates(read_file(path, "--trust-ark file"))
        except AttestError as error:
            raise CliInputError(f"--trust-ark {path}: {error}") from error
        arks = [c.cert for c in loaded if c.role is CertRole.ARK]
        if not arks:
            raise CliInputError(f"--trust-ark {path} holds no ARK (self-signed root) certificate")
        roots.extend(arks)
    return tuple(roots)


def verification_options(args: argparse.Namespace) -> VerificationOptions:
    """Resolve the shared flags into plain values (reads the policy and root files)."""
    policy = Policy()
    if args.policy is not None:
        try:
            policy = load_policy(read_file(args.policy, "policy"))
        except AttestError as error:
            raise CliInputError(f"--policy {args.policy}: {error}") from error
    settings = KdsSettings(base_url=args.kds_url, cache_dir=args.kds_cache, offline=args.offline)
    return VerificationOptions(
        policy=policy,
        at=_parse_time(args.at),
        kds=KdsClient(settings),
        extra_roots=_roots(args.trust_ark),
        crls=tuple(read_file(path, "CRL") for path in args.crl),
        product=Product(args.product) if args.product else None,
        json=args.json,
    )
