"""Client for AMD's Key Distribution Service (KDS): VCEKs, certificate chains and CRLs.

URLs follow the VCEK spec (AMD 57230) and VLEK spec (AMD 58369), Turin included. KDS throttles
(HTTP 429), so the client retries 429/5xx and network errors with exponential backoff inside one
overall deadline, caches in memory and optionally in a directory, and has an offline mode that
never touches the network and names exactly what is missing. Responses are validated (they must
parse) before they are cached.

HTTP goes through the standard library's ``urllib`` rather than ``requests``: the client lives in
every tenant pod's sidecar, and ``requests`` would add about 8 MiB to its resident memory.
"""

from __future__ import annotations

import os
import re
import time
import warnings
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Literal, NamedTuple

from cryptography import x509

from akash_snp.attest.constants import CHIP_ID_SIZE, KDS_BASE_URL, TCB_LAYOUT, Product, TcbLayout
from akash_snp.attest.errors import KdsError, KdsOfflineError, KdsRefusedError
from akash_snp.attest.tcb import TcbVersion

if TYPE_CHECKING:  # only a configured cache directory is a Path: offline runs spare pathlib
    from pathlib import Path

KeyKind = Literal["vcek", "vlek"]
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# The largest KDS object (a PEM chain of two RSA-4096 certificates, or a CRL) is a few kB.
_MAX_RESPONSE_BYTES = 1 << 20


def vcek_path(product: Product, hwid: bytes, tcb: TcbVersion) -> str:
    """``/vcek/v1/<Product>/<hwid>?blSPL=..`` (Turin: 8-byte hwid and ``fmcSPL`` first)."""
    size = CHIP_ID_SIZE[product]
    if len(hwid) < size or hwid[:size].count(0) == size:
        raise KdsError(f"cannot fetch a VCEK without a chip id (got {hwid.hex() or 'nothing'})")
    query = f"blSPL={tcb.bootloader}&teeSPL={tcb.tee}&snpSPL={tcb.snp}&ucodeSPL={tcb.microcode}"
    if TCB_LAYOUT[product] is TcbLayout.TURIN:
        query = f"fmcSPL={tcb.fmc}&{query}"
    return f"/vcek/v1/{product.value}/{hwid[:size].hex()}?{query}"


def chain_path(product: Product, kind: KeyKind) -> str:
    """``/vcek/v1/<Product>/cert_chain`` (ASK, ARK) or ``/vlek/v1/...`` (ASVK, ARK)."""
    return f"/{kind}/v1/{product.value}/cert_chain"


def crl_path(product: Product, kind: KeyKind) -> str:
    return f"/{kind}/v1/{product.value}/crl"


class KdsSettings(NamedTuple):
    """How the client talks to KDS. All durations are seconds. A NamedTuple: ``snp-verify``
    builds one on every run, and a dataclass would cost its start-up about a millisecond."""

    base_url: str = KDS_BASE_URL
    request_timeout: float = 10.0
    deadline: float = 30.0
    max_attempts: int = 5
    backoff_initial: float = 0.5
    backoff_max: float = 8.0
    cache_dir: Path | None = None
    offline: bool = False


FROM_KDS = "KDS"
FROM_CACHE = "KDS cache"


class KdsAnswer(NamedTuple):
    """A KDS object and where it came from (``FROM_KDS`` or ``FROM_CACHE``), which a verdict's
    evidence shows."""

    body: bytes
    source: str


def _validate_der_cert(body: bytes) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # serial number 0 on real VCEKs/VLEKs
        x509.load_der_x509_certificate(body)


def _validate_pem_chain(body: bytes) -> None:
    if len(x509.load_pem_x509_certificates(body)) != 2:
        raise ValueError("a KDS chain must hold exactly two certificates")


def _validate_crl(body: bytes) -> None:
    x509.load_der_x509_crl(body)


class KdsClient:
    """Fetches and caches KDS objects. Thread-safe (dict operations, per-thread temporary files),
    but concurrent misses of one object each fetch it: the agent's proxy coalesces them."""

    def __init__(
        self,
        settings: KdsSettings | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        on_fetch: Callable[[str], None] | None = None,
    ) -> None:
        """``on_fetch`` is told the URL of every network request (the node agent counts them)."""
        self.settings = settings or KdsSettings()
        self._sleep = sleep
        self._clock = clock
        self._on_fetch = on_fetch
        self._memory: dict[str, bytes] = {}

    # --- public API ---

    def vcek(self, product: Product, hwid: bytes, tcb: TcbVersion) -> KdsAnswer:
        """The DER VCEK for a chip at a TCB (use the report's REPORTED_TCB)."""
        return self._get(vcek_path(product, hwid, tcb), "VCEK", _validate_der_cert)

    def cert_chain(self, product: Product, kind: KeyKind = "vcek") -> KdsAnswer:
        """PEM: ASK (vcek) or ASVK (vlek), then ARK."""
        return self._get(chain_path(product, kind), f"{kind.upper()} chain", _validate_pem_chain)

    def crl(
        self, product: Product, kind: KeyKind = "vcek", *, now: datetime | None = None
    ) -> KdsAnswer:
        """DER CRL signed by the ARK; a cached CRL past its nextUpdate is fetched again."""
        path = crl_path(product, kind)
        answer = self._get(path, f"{kind.upper()} CRL", _validate_crl)
        if self.settings.offline or answer.source == FROM_KDS:
            return answer
        next_update = x509.load_der_x509_crl(answer.body).next_update_utc
        if next_update is not None and next_update < (now or datetime.now(timezone.utc)):
            self.forget(path)
            answer = self._get(path, f"{kind.upper()} CRL", _validate_crl)
        return answer

    def url(self, path: str) -> str:
        return self.settings.base_url.rstrip("/") + path

    # --- caching ---

    def _cache_file(self, path: str) -> Path | None:
        if self.settings.cache_dir is None:
            return None
        return self.settings.cache_dir / re.sub(r"[^A-Za-z0-9._-]", "_", path.strip("/"))

    def forget(self, path: str) -> None:
        """Drop ``path`` from both caches, so the next request fetches it again."""
        self._memory.pop(path, None)
        file = self._cache_file(path)
        if file is not None:
            file.unlink(missing_ok=True)

    def _cached(self, path: str, validate: Callable[[bytes], None]) -> bytes | None:
        if path in self._memory:
            return self._memory[path]
        file = self._cache_file(path)
        if file is None or not file.is_file():
            return None
        body = file.read_bytes()
        try:
            validate(body)
        except ValueError as error:
            raise KdsError(f"cache file {file} is corrupt: {error}") from error
        self._memory[path] = body
        return body

    def _store(self, path: str, body: bytes) -> None:
        self._memory[path] = body
        file = self._cache_file(path)
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
            # One temporary file per thread: the node agent's proxy and its own verification
            # may store the same object at once. (``threading`` is imported only here: an
            # offline verification never stores.)
            import threading

            temporary = file.with_name(f"{file.name}.{os.getpid()}-{threading.get_ident()}.tmp")
            temporary.write_bytes(body)
            temporary.replace(file)

    # --- network ---

    def _get(self, path: str, what: str, validate: Callable[[bytes], None]) -> KdsAnswer:
        cached = self._cached(path, validate)
        if cached is not None:
            return KdsAnswer(cached, FROM_CACHE)
        if self.settings.offline:
            where = self._cache_file(path)
            hint = f" (expected cache file {where})" if where else " (no cache directory set)"
            raise KdsOfflineError(
                f"offline: the {what} is not cached and the network is not used; "
                f"it would come from {self.url(path)}{hint}"
            )
        body = self._fetch(path, what)
        try:
            validate(body)
        except ValueError as error:
            raise KdsError(
                f"KDS answered {self.url(path)} with an invalid {what}: {error}"
            ) from error
        self._store(path, body)
        return KdsAnswer(body, FROM_KDS)

    def _fetch(self, path: str, what: str) -> bytes:
        # The HTTP stack is loaded on the first network request only: an offline verification
        # (the CLI's common case) never pays for it.
        import urllib.error
        import urllib.request

        settings = self.settings
        url = self.url(path)
        end = self._clock() + settings.deadline
        delay = settings.backoff_initial
        last_problem = "no attempt made"
        attempt = 0
        for attempt in range(1, settings.max_attempts + 1):
            remaining = end - self._clock()
            if remaining <= 0:
                break
            server_wait = 0.0
            timeout = min(settings.request_timeout, remaining)
            if self._on_fetch is not None:
                self._on_fetch(url)
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
                    body: bytes = response.read(_MAX_RESPONSE_BYTES + 1)
            except urllib.error.HTTPError as error:
                last_problem = f"HTTP {error.code}"
                if error.code not in _RETRY_STATUSES:
                    raise KdsRefusedError(
                        f"KDS refused {what} at {url}: {last_problem}", error.code
                    ) from error
                server_wait = _retry_after(error.headers.get("Retry-After", ""))
            except (OSError, ValueError) as error:  # URLError, timeouts, resets, bad URLs
                cause = error.reason if isinstance(error, urllib.error.URLError) else error
                last_problem = f"{type(cause).__name__}: {cause}"
            else:
                if len(body) > _MAX_RESPONSE_BYTES:
                    raise KdsError(f"KDS answered {url} with over {_MAX_RESPONSE_BYTES} bytes")
                return body
            if attempt == settings.max_attempts:
                break
            # Exponential backoff, but never sooner than the server's Retry-After.
            pause = max(min(delay, settings.backoff_max), server_wait)
            if self._clock() + pause >= end:
                last_problem += f"; the next retry would pass the {settings.deadline:g}s deadline"
                break
            self._sleep(pause)
            delay *= 2
        raise KdsError(
            f"KDS did not deliver the {what} from {url} within {settings.deadline:g}s "
            f"({attempt} attempt(s); last: {last_problem})"
        )


def _retry_after(value: str) -> float:
    """Seconds from a Retry-After header (the HTTP-date form is treated as no hint)."""
    try:
        return max(0.0, float(value))
    except ValueError:
        return 0.0
