"""Ask every injected pod's sidecar for its ``/verify`` answer through the API server's pod
proxy (no network path to pod IPs needed), a bounded number at a time, each under a timeout and
a size cap, and turn each answer into one ``PodStatus`` row.

With ``fresh`` options each request carries a random nonce and the answer is verified here,
through ``snp-verify url``'s own code (``parse_answer``, ``verify_answer``): the sidecar's
``attestation_status`` is then not trusted.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from akash_snp.attest.constants import TCB_LAYOUT, Product
from akash_snp.attest.errors import AttestError
from akash_snp.attest.tcb import decode_tcb
from akash_snp.attestation.state import FAILED, PENDING, UNAVAILABLE, VERIFIED
from akash_snp.cli.policy_flags import VerificationOptions
from akash_snp.cli.url_command import (
    DEFAULT_NONCE_BYTES,
    SidecarAnswer,
    UrlError,
    parse_answer,
    verify_answer,
)
from akash_snp.status.kube import KubeError, get
from akash_snp.status.listing import InjectedPod

SIDECAR_PORT = 8790
MAX_ANSWER_BYTES = 1 << 20  # a /verify answer is about 10 KB (report and three certificates)

UNREACHABLE = "unreachable"  # no usable answer; the other statuses are the sidecar's own
SIDECAR_STATUSES = frozenset({VERIFIED, FAILED, UNAVAILABLE, PENDING})


@dataclass(frozen=True)
class FetchSettings:
    """How each sidecar is asked."""

    timeout: float = 10.0
    max_bytes: int = MAX_ANSWER_BYTES
    fresh: VerificationOptions | None = None
    """Send a nonce and verify locally with these options; None: read the last periodic result."""


@dataclass(frozen=True)
class PodStatus:
    """One row of the table."""

    namespace: str
    pod: str
    node: str
    status: str
    reason: str
    """The first failing check, or why there is no verified result; empty when verified."""
    product: str | None = None
    tcb: str | None = None
    last_verification: datetime | None = None
    fresh: bool = False

    def as_dict(self, now: datetime) -> dict[str, Any]:
        """JSON-ready; ``age_seconds`` relative to ``now``."""
        last = self.last_verification
        return {
            "namespace": self.namespace,
            "pod": self.pod,
            "node": self.node,
            "status": self.status,
            "reason": self.reason,
            "product": self.product,
            "tcb": self.tcb,
            "last_verification": last.strftime("%Y-%m-%dT%H:%M:%SZ") if last else None,
            "age_seconds": round((now - last).total_seconds()) if last else None,
            "fresh": self.fresh,
        }


def proxy_path(pod: InjectedPod) -> str:
    """``/verify`` of the pod's sidecar through the API server's pod proxy."""
    return (
        f"/api/v1/namespaces/{quote(pod.namespace, safe='')}/pods/"
        f"{quote(pod.name, safe='')}:{SIDECAR_PORT}/proxy/verify"
    )


def check_pod(api: Any, pod: InjectedPod, settings: FetchSettings) -> PodStatus:
    """Ask one sidecar; never raises for anything the pod or the network does."""
    row = PodStatus(pod.namespace, pod.name, pod.node, UNREACHABLE, "", fresh=bool(settings.fresh))
    if not pod.sidecar_running:
        status = PENDING if pod.starting else UNREACHABLE
        return replace(row, status=status, reason=f"sidecar not running: {pod.sidecar_state}")
    nonce = secrets.token_bytes(DEFAULT_NONCE_BYTES) if settings.fresh else None
    query = [("nonce", nonce.hex())] if nonce is not None else []
    target = f"pod {pod.namespace}/{pod.name}"
    try:
        answer = get(api, proxy_path(pod), query, settings.timeout, settings.max_bytes)
        # an API server that cannot reach the pod answers 502/503 with a Status `message`,
        # which parse_answer reports like any other non-200 answer
        retry_after = answer.headers.get("Retry-After")
        parsed = parse_answer(target, answer.status, retry_after, answer.body)
    except (KubeError, UrlError) as error:
        return replace(row, reason=str(error))
    if settings.fresh is None or nonce is None:
        return _from_sidecar(row, parsed)
    return _verified_here(row, parsed, nonce, settings.fresh)


def _from_sidecar(row: PodStatus, answer: SidecarAnswer) -> PodStatus:
    """The sidecar's own last periodic result, as it states it."""
    body = answer.body
    status = answer.sidecar_status
    if status not in SIDECAR_STATUSES:
        return replace(row, reason=f"the sidecar answered an unknown status {status!r}")
    product = body.get("product") if isinstance(body.get("product"), str) else None
    report = body.get("report")
    reported_tcb = report.get("reported_tcb") if isinstance(report, dict) else None
    reason = ""
    if status == FAILED:
        failing = [c for c in body.get("checks") or [] if isinstance(c, dict) and not c.get("ok")]
        reason = _check_text(failing[0]) if failing else _first_line(body)
    elif status != VERIFIED:
        reason = _first_line(body)
    return replace(
        row,
        status=status,
        reason=reason,
        product=product,
        tcb=tcb_text(reported_tcb, product),
        last_verification=parse_time(body.get("last_verification")),
    )


def _verified_here(
    row: PodStatus, answer: SidecarAnswer, nonce: bytes, options: VerificationOptions
) -> PodStatus:
    """A nonce-bound answer verified locally, exactly as ``snp-verify url`` does."""
    last = parse_time(answer.body.get("last_verification"))
    if not answer.report:
        said = answer.sidecar_status
        status = said if said in {UNAVAILABLE, PENDING} else FAILED
        reason = f"the sidecar has no report ({answer.sidecar_status}): {_first_line(answer.body)}"
        return replace(row, status=status, reason=reason, last_verification=last)
    try:
        verdict = verify_answer(answer, nonce, options)
    except AttestError as error:
        return replace(row, status=FAILED, reason=f"could not verify here: {error}")
    failure = verdict.first_failure
    tcb = verdict.report.reported_tcb.hex() if verdict.report else None
    return replace(
        row,
        status=VERIFIED if failure is None else FAILED,
        reason="" if failure is None else f"{failure.name}: {failure.detail}",
        product=verdict.product,
        tcb=tcb_text(tcb, verdict.product),
        last_verification=last,
    )


def check_all(
    api: Any,
    pods: Sequence[InjectedPod],
    settings: FetchSettings,
    concurrency: int,
    on_done: Callable[[int], None] = lambda _: None,
) -> list[PodStatus]:
    """``check_pod`` for every pod, at most ``concurrency`` at a time, rows in the pods' order;
    ``on_done`` gets the number finished so far after each one."""
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        futures = {pool.submit(check_pod, api, pod, settings): i for i, pod in enumerate(pods)}
        rows: list[PodStatus | None] = [None] * len(pods)
        for done, future in enumerate(as_completed(futures), start=1):
            rows[futures[future]] = future.result()
            on_done(done)
    return [row for row in rows if row is not None]


def tcb_text(reported_tcb: object, product: str | None) -> str | None:
    """REPORTED_TCB as ``bl=.. tee=.. snp=.. ucode=..`` (hex when the product is unknown)."""
    if not isinstance(reported_tcb, str):
        return None
    try:
        raw = bytes.fromhex(reported_tcb)
        return decode_tcb(raw, TCB_LAYOUT[Product(product)]).describe()
    except (ValueError, KeyError, AttestError):
        return reported_tcb


def parse_time(value: object) -> datetime | None:
    """An RFC 3339 time as /verify writes it, or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _check_text(check: dict[str, Any]) -> str:
    return " ".join(f"{check.get('name')}: {check.get('detail', '')}".split())


def _first_line(body: dict[str, Any]) -> str:
    output = body.get("verification_output") or body.get("error") or ""
    lines = [line for line in str(output).splitlines() if line.strip()]
    return " ".join(lines[0].split())[:300] if lines else ""
