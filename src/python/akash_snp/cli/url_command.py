"""``snp-verify url URL``: check a deployment end to end from the tenant's side.

Sends a fresh random nonce to the sidecar's ``/verify``, verifies the returned report and
certificates locally with the same library and policy flags as ``snp-verify report``, and checks
that REPORT_DATA commits to the nonce (``akash_snp.attest.nonce``). The sidecar's own
``attestation_status`` is shown but never trusted. Exit 0: genuine, policy satisfied, nonce bound;
1: rejected; 2: unusable answer or environment (unreachable, rate-limited, malformed).

``snp-verify report`` imports this module too (to register ``url``), so what only ``url`` needs
(``secrets``, ``base64``, ``json``, nonces, the HTTP download) is imported where it is used.
"""

from __future__ import annotations

import argparse
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

from akash_snp.attest.errors import AttestError
from akash_snp.attest.verdict import Check, Verdict
from akash_snp.attest.verify import verify_attestation
from akash_snp.cli.help_format import HelpFormatter
from akash_snp.cli.output import print_error, print_verdict
from akash_snp.cli.policy_flags import (
    CliInputError,
    VerificationOptions,
    add_verification_flags,
    verification_options,
)

DEFAULT_NONCE_BYTES = 32
# A /verify answer is about 15 KiB (report, certificates, decoded fields); a megabyte is plenty.
MAX_ANSWER_BYTES = 1024 * 1024
MEANING = (
    "A passing result means: a genuine AMD SEV-SNP processor signed this report just now (it "
    "commits to your nonce), for a guest with the policy, TCB and launch MEASUREMENT shown. It "
    "does not prove which container runs in the pod, and the node's operator (root in the "
    "guest) can request reports too."
)


class UrlError(Exception):
    """The sidecar could not be asked, or its answer is unusable (exit 2)."""


class SidecarAnswer(NamedTuple):
    """The parts of a /verify answer that local verification uses."""

    report: bytes
    certificates: list[bytes]
    sidecar_status: str
    body: dict[str, Any]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``url`` on the ``snp-verify`` sub-command parser."""
    parser = subparsers.add_parser(
        "url",
        help="verify a deployment's sidecar with a fresh nonce",
        description="GET the sidecar's /verify with a fresh random nonce, verify the returned "
        "report and certificates locally, and check that REPORT_DATA commits to the nonce. "
        "The sidecar's own status is shown but never trusted. Exit 0: genuine, policy "
        "satisfied and nonce bound; 1: rejected; 2: unusable answer or environment.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("url", help="the sidecar's /verify URL (or its base URL)")
    fresh = parser.add_mutually_exclusive_group()
    fresh.add_argument("--nonce", help="nonce as hex, 1..64 bytes (default: 32 random bytes)")
    fresh.add_argument(
        "--no-nonce",
        action="store_true",
        help="fetch the last periodic report instead (proves no freshness)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        help="seconds for the whole request, from connecting to the last byte of the answer",
    )
    add_verification_flags(parser)
    parser.set_defaults(run=run_url)


def verify_url_target(url: str) -> str:
    """``URL`` as given if it names /verify, else the base URL with /verify appended."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UrlError(f"not an http(s) URL: {url!r}")
    path = parts.path.rstrip("/")
    if not path.endswith("/verify"):
        path += "/verify"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _json(answer_body: bytes, url: str, status: int) -> object:
    import json

    try:
        return json.loads(answer_body)
    except RecursionError:
        raise UrlError(f"{url} answered with JSON nested too deeply for a /verify answer") from None
    except ValueError:
        raise UrlError(f"{url} answered HTTP {status} with non-JSON content") from None


def fetch(url: str, nonce: bytes | None, timeout: float) -> SidecarAnswer:
    """GET /verify (with ``nonce`` when given) and pull out the report and certificates.

    The bounded download (and with it ``requests``) is imported here, not at module level:
    ``snp-verify report`` registers this subcommand too, and must not pay for loading an HTTP
    stack it never uses."""
    from akash_snp.cli.download import DownloadError, get

    params = {"nonce": nonce.hex()} if nonce is not None else {}
    try:
        answer = get(url, params, deadline=timeout, limit=MAX_ANSWER_BYTES)
    except DownloadError as error:
        raise UrlError(str(error)) from error
    return parse_answer(url, answer.status, answer.retry_after, answer.body)


def parse_answer(url: str, status: int, retry_after: str | None, content: bytes) -> SidecarAnswer:
    """Turn one HTTP answer of /verify into a ``SidecarAnswer``, whatever carried it (a direct
    GET here, the API server's pod proxy in ``sev-status``); ``UrlError`` when unusable."""
    import base64
    import binascii

    if status == 429:
        wait = retry_after or "a few"
        raise UrlError(f"the sidecar is rate-limiting fresh reports; retry in {wait} s")
    body = _json(content, url, status)
    if status != 200 or not isinstance(body, dict):
        # the sidecar's errors carry `error`, the API server's (a v1 Status) `message`
        detail = body.get("error") or body.get("message") if isinstance(body, dict) else None
        raise UrlError(f"{url} answered HTTP {status}: {str(detail or body)[:200]}")
    said = str(body.get("attestation_status"))
    encoded = body.get("attestation_report")
    if not encoded:
        return SidecarAnswer(b"", [], said, body)
    try:
        report = base64.b64decode(encoded, validate=True)
        certificates = [
            base64.b64decode(body[key], validate=True)
            for key in ("vcek_certificate", "vlek_certificate", "cert_chain")
            if body.get(key)
        ]
    except (binascii.Error, TypeError) as error:
        raise UrlError(f"the answer carries invalid base64: {error}") from error
    return SidecarAnswer(report, certificates, said, body)


def verify_answer(
    answer: SidecarAnswer, nonce: bytes | None, options: VerificationOptions
) -> Verdict:
    """Verify the report locally; with a nonce, the policy also requires REPORT_DATA to commit
    to it (``policy.nonce``)."""
    policy = options.policy if nonce is None else options.policy._replace(nonce=nonce)
    return verify_attestation(
        answer.report,
        certificates=answer.certificates,
        crls=options.crls,
        policy=policy,
        at=options.at,
        kds=options.kds,
        extra_roots=options.extra_roots,
        product=options.product,
    )


def _no_report(answer: SidecarAnswer) -> Verdict:
    """The sidecar answered without a report: a rejection, with the sidecar's reason."""
    detail = (
        f"the sidecar has no report ({answer.sidecar_status}): "
        f"{answer.body.get('verification_output', '')}"
    )
    return Verdict((Check("report_present", False, detail),), None, None, None)


def run_url(args: argparse.Namespace) -> int:
    """The ``url`` sub-command; returns the exit status."""
    import secrets

    from akash_snp.attest.nonce import parse_nonce_hex

    try:
        nonce: bytes | None = None
        if not args.no_nonce:
            nonce = (
                parse_nonce_hex(args.nonce)
                if args.nonce
                else secrets.token_bytes(DEFAULT_NONCE_BYTES)
            )
        options = verification_options(args)
        answer = fetch(verify_url_target(args.url), nonce, args.timeout)
        verdict = verify_answer(answer, nonce, options) if answer.report else _no_report(answer)
    except (UrlError, CliInputError, AttestError) as error:
        return print_error(f"url: {error}", args.json)
    context = {
        "url": args.url,
        "nonce": nonce.hex() if nonce is not None else None,
        "sidecar_status": answer.sidecar_status,
    }
    notes = [f"sidecar said: {answer.sidecar_status} (not trusted; verified locally above)"]
    if nonce is None:
        notes.append("note: no nonce was sent, so this report proves nothing about freshness")
    if verdict.genuine:
        notes.append(MEANING)
    return print_verdict(verdict, args.json, context, notes)
