"""Flags shared by every verifying subcommand (``report`` and ``url``): time, policy, KDS, roots.

``add_verification_flags`` declares them; ``verification_options`` turns parsed arguments into the
plain values ``attest.verify.verify_attestation`` takes. Errors are ``CliInputError`` (exit 2).
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from typing import TYPE_CHECKING, NamedTuple

from cryptography import x509

from akash_snp.attest.constants import KDS_BASE_URL, Product
from akash_snp.attest.kds import KdsClient, KdsSettings
from akash_snp.attest.policy import Policy
from akash_snp.attest.trust import load_policy_file, load_trusted_roots, read_input

if TYPE_CHECKING:
    from pathlib import Path


class CliInputError(Exception):
    """Unusable command-line input (a file that cannot be read or understood): exit code 2."""


class VerificationOptions(NamedTuple):
    """Everything a subcommand passes to ``verify_attestation`` besides the evidence (a
    NamedTuple: a dataclass would cost every ``snp-verify`` start-up about a millisecond)."""

    policy: Policy
    at: datetime
    kds: KdsClient
    extra_roots: tuple[x509.Certificate, ...]
    crls: tuple[bytes, ...]
    product: Product | None


def _path(text: str) -> Path:
    """A path flag's value; ``pathlib`` is imported only when such a flag is given (every
    ``snp-verify`` start-up would pay about 1.5 ms for it)."""
    from pathlib import Path

    return Path(text)


def add_verification_flags(parser: argparse.ArgumentParser) -> None:
    """Declare --crl, --product, --at, --policy, --offline, --kds-url, --kds-cache-dir, --trust-ark,
    --json."""
    parser.add_argument(
        "--crl",
        action="append",
        default=[],
        metavar="FILE",
        type=_path,
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
        type=_path,
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
        "--kds-cache-dir",
        metavar="DIR",
        type=_path,
        help="directory caching KDS answers (read in --offline mode)",
    )
    parser.add_argument(
        "--trust-ark",
        metavar="FILE",
        type=_path,
        action="append",
        default=[],
        help="an extra trusted root (emulated/test PKI); AMD's roots are pinned",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def _parse_time(text: str | None) -> datetime:
    if text is None:
        return datetime.now(timezone.utc)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise CliInputError(f"--at {text!r} is not an ISO 8601 time") from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def verification_options(args: argparse.Namespace) -> VerificationOptions:
    """Resolve the shared flags into plain values (reads the policy and root files)."""
    settings = KdsSettings(
        base_url=args.kds_url, cache_dir=args.kds_cache_dir, offline=args.offline
    )
    return VerificationOptions(
        policy=load_policy_file(args.policy),
        at=_parse_time(args.at),
        kds=KdsClient(settings),
        extra_roots=load_trusted_roots(args.trust_ark),
        crls=tuple(read_input(path, "CRL") for path in args.crl),
        product=Product(args.product) if args.product else None,
    )
