"""The sidecar in agent mode: a thin relay to the node attestation agent, which obtains AND
verifies the reports (one verifier, one KDS cache and one firmware budget per node).

``/verify`` relays the agent's ``/v1/status`` (the node's periodic attestation), cached for a few
seconds so that a burst of tenant requests costs the agent one; ``/verify?nonce=`` relays
``/v1/verify?nonce=`` after this pod's own token bucket, so one tenant cannot spend the node's
firmware budget. Bodies pass through unchanged; when the agent cannot answer, the sidecar
answers a /verify body of its own with status ``unavailable`` (or ``failed``) and the reason.

The whole point is memory: this module, and everything it imports, must not import the verifier,
cryptography or the KDS client (``relay_test`` checks it).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import datetime

from akash_snp.attestation.attestor import NONCE_BINDING_SHOWN
from akash_snp.attestation.metrics import AttestationMetrics
from akash_snp.attestation.state import FAILED, PENDING, UNAVAILABLE, VERIFIED, Attestation
from akash_snp.attestation.views import attestation_json
from akash_snp.guest.agent_client import AgentHttp, error_text, retry_after
from akash_snp.guest.guard import TokenBucket
from akash_snp.guest.provider import GuestError, ProviderUnavailable, RateLimited

PROVIDER = "agent"
STATUS_TTL = 5.0
"""Seconds a relayed /v1/status is reused: the agent attests every few minutes anyway."""


class RelayBackend:
    """``sidecar.app.Backend`` answering from the node agent."""

    def __init__(
        self,
        http: AgentHttp,
        bucket: TokenBucket,
        metrics: AttestationMetrics,
        clock: Callable[[], datetime],
        *,
        ttl: float = STATUS_TTL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._bucket = bucket
        self._metrics = metrics
        self._clock = clock
        self._ttl = ttl
        self._monotonic = monotonic
        self._bucket_lock = threading.Lock()
        # held while fetching: one fetch at a time instead of one per request; readers take
        # the tuple without it (one attribute read), so they never wait for the agent
        self._status_lock = threading.Lock()
        self._status: tuple[float, str, bytes] | None = None  # (fetched at, status, body)

    def periodic_body(self) -> bytes:
        """The agent's status, fetched once and then refreshed in the background when older
        than the TTL (the previous answer is served meanwhile): only the first request waits."""
        cached = self._status
        if cached is None:
            with self._status_lock:
                cached = self._status or self._fetch_status()
            return cached[2]
        if self._monotonic() - cached[0] >= self._ttl and self._status_lock.acquire(
            blocking=False
        ):
            threading.Thread(target=self._refresh_status, name="status", daemon=True).start()
        return cached[2]

    def periodic_at_hand(self) -> bool:
        return self._status is not None

    def _refresh_status(self) -> None:
        """In the background thread that holds the status lock (one refresh at a time)."""
        try:
            self._fetch_status()
        finally:
            self._status_lock.release()

    def _fetch_status(self) -> tuple[float, str, bytes]:
        status, body = self._relay("/v1/status", "", None)
        self._status = fetched = (self._monotonic(), status, body)
        return fetched

    def fresh_body(self, nonce: bytes) -> bytes:
        with self._bucket_lock:
            delay = self._bucket.take()
        if delay > 0:
            raise RateLimited(delay)
        status, body = self._relay(f"/v1/verify?nonce={nonce.hex()}", NONCE_BINDING_SHOWN, nonce)
        self._metrics.attestations.labels(kind="nonce", outcome=status).inc()
        if status == VERIFIED:
            self._metrics.last_success.set(self._clock().timestamp())
        return body

    def attestation_status(self) -> str:
        """The last relayed /v1/status; /readyz never waits for the agent (ready without it)."""
        cached = self._status
        return cached[1] if cached else PENDING

    def _relay(self, path: str, binding: str, nonce: bytes | None) -> tuple[str, bytes]:
        """(attestation status, /verify body) for the agent's answer to ``path``."""
        where = f"node attestation agent at {self._http.url}"
        try:
            code, headers, body = self._http.get(path)
        except ProviderUnavailable as absent:
            return self._own(UNAVAILABLE, f"SEV-SNP is unavailable: {absent}", binding, nonce)
        except GuestError as error:
            return self._own(FAILED, f"obtaining a report failed: {error}", binding, nonce)
        if code == 429:
            raise RateLimited(retry_after(headers.get("retry-after", "")))
        if code == 503:
            reason = f"SEV-SNP is unavailable: {where}: {error_text(body)}"
            return self._own(UNAVAILABLE, reason, binding, nonce)
        if code != 200:
            reason = f"obtaining a report failed: {where} answered HTTP {code}: {error_text(body)}"
            return self._own(FAILED, reason, binding, nonce)
        try:
            answer = json.loads(body)
            status = answer["attestation_status"]
        except (ValueError, TypeError, KeyError) as error:
            reason = f"obtaining a report failed: the {where} sent an unusable answer: {error!r}"
            return self._own(FAILED, reason, binding, nonce)
        if nonce is not None and answer.get("nonce") != nonce.hex():
            reason = f"obtaining a report failed: the {where} answered for another nonce"
            return self._own(FAILED, reason, binding, nonce)
        return str(status), body

    def _own(
        self, status: str, detail: str, binding: str, nonce: bytes | None
    ) -> tuple[str, bytes]:
        """A /verify body saying why the agent's answer is missing."""
        body = attestation_json(
            Attestation(status, self._clock(), PROVIDER, detail, binding=binding), PROVIDER
        )
        if nonce is not None:
            body["nonce"] = nonce.hex()
        return status, json.dumps(body).encode() + b"\n"
