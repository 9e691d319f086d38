"""The agent's caching proxy of AMD KDS: every sidecar on the node fetches its certificates here,
so the node makes one upstream request per distinct object instead of one per pod, and stays
under KDS's throttling (HTTP 429; observed: identical requests about one per 10 s).

Upstream traffic goes through the library's ``KdsClient`` (retries with backoff on 429/5xx inside
a deadline, a 1 MiB response cap, validation before caching, the optional cache directory). This
module adds what a shared proxy needs on top: identical concurrent requests coalesce into one
upstream request, certificates stay cached, CRLs are refreshed after a bounded TTL (or their
nextUpdate, which ``KdsClient.crl`` enforces), failures are remembered briefly so a failing
upstream is not hammered by every pod's retries, and the cache has a bounded number of entries.
The proxy is not trusted: sidecars verify everything against the pinned AMD roots.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509

from akash_snp.agent.kds_paths import KdsRequest
from akash_snp.agent.metrics import AgentMetrics
from akash_snp.attest.errors import KdsError, KdsRefusedError
from akash_snp.attest.kds import KdsClient

CONTENT_TYPES = {
    "vcek": "application/pkix-cert",
    "cert_chain": "application/x-pem-file",
    "crl": "application/pkix-crl",
}


@dataclass(frozen=True)
class _Entry:
    body: bytes
    expires: float | None
    """Monotonic time after which the entry is fetched again; None: never (certificates)."""


class KdsProxy:
    """Serve KDS objects from a bounded cache, fetching each missing one upstream once."""

    def __init__(
        self,
        client: KdsClient,
        metrics: AgentMetrics,
        *,
        crl_ttl: float = 6 * 3600.0,
        failure_ttl: float = 30.0,
        max_entries: int = 512,
        wait_timeout: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._metrics = metrics
        self._crl_ttl = crl_ttl
        self._failure_ttl = failure_ttl
        self._max_entries = max_entries
        self._wait_timeout = wait_timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, _Entry] = OrderedDict()
        self._failures: dict[str, tuple[float, KdsError]] = {}
        self._inflight: dict[str, Future[bytes]] = {}

    def get(self, request: KdsRequest) -> bytes:
        """The object's bytes; raises ``KdsError`` (one line) when upstream cannot deliver."""
        now = self._clock()
        with self._lock:
            entry = self._cache.get(request.path)
            if entry is not None and (entry.expires is None or now < entry.expires):
                self._metrics.kds_cache_hits.inc()
                return entry.body
            failed = self._failures.get(request.path)
            if failed is not None and now < failed[0]:
                raise failed[1]
            pending = self._inflight.get(request.path)
            leader = pending is None
            if pending is None:
                pending = self._inflight[request.path] = Future()
        if not leader:
            self._metrics.kds_cache_hits.inc()
            try:
                return pending.result(timeout=self._wait_timeout)
            except TimeoutError:
                raise KdsError(
                    f"the identical request in flight took over {self._wait_timeout:g}s"
                ) from None
        try:
            body = self._fetch(request, refresh=entry is not None)
        except KdsError as error:
            remembered = _remembered(error, self._failure_ttl)
            with self._lock:
                self._failures[request.path] = (self._clock() + self._failure_ttl, remembered)
            pending.set_exception(error)
            raise
        except Exception as error:  # never leave followers waiting on a leader that died
            pending.set_exception(KdsError(f"the KDS proxy failed: {error!r}"))
            raise
        finally:
            with self._lock:
                del self._inflight[request.path]
        self._remember(request, body)
        pending.set_result(body)
        return body

    def _fetch(self, request: KdsRequest, refresh: bool) -> bytes:
        client = self._client
        if request.what == "vcek":
            assert request.tcb is not None
            return client.vcek(request.product, request.hwid, request.tcb).body
        if request.what == "cert_chain":
            return client.cert_chain(request.product, request.kind).body
        if refresh:  # our CRL TTL passed: make the client fetch it anew
            client.forget(request.path)
        return client.crl(request.product, request.kind).body

    def _remember(self, request: KdsRequest, body: bytes) -> None:
        expires = self._clock() + self._crl_lifetime(body) if request.what == "crl" else None
        with self._lock:
            self._failures.pop(request.path, None)
            self._cache[request.path] = _Entry(body, expires)
            self._cache.move_to_end(request.path)
            while len(self._cache) > self._max_entries:
                evicted, _ = self._cache.popitem(last=False)
                self._client.forget(evicted)

    def _crl_lifetime(self, body: bytes) -> float:
        """Until the CRL's nextUpdate, at most the TTL, at least a minute (a CRL that AMD let go
        stale must not turn every request into an upstream request)."""
        next_update = x509.load_der_x509_crl(body).next_update_utc
        if next_update is None:
            return self._crl_ttl
        left = (next_update - datetime.now(UTC)).total_seconds()
        return min(self._crl_ttl, max(60.0, left))


def _remembered(error: KdsError, ttl: float) -> KdsError:
    """The error to answer with while a failure is remembered (same kind and status)."""
    message = f"{error} (remembered for {ttl:g}s)"
    if isinstance(error, KdsRefusedError):
        return KdsRefusedError(message, error.status)
    return KdsError(message)
