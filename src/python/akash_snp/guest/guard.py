"""Serialised, rate-limited access to a provider: the firmware throttles guest requests and a
burst of /verify?nonce= calls must not turn into a burst of firmware requests (the host answers
SNP_GUEST_VMM_ERR_BUSY when it throttles them: include/uapi/linux/sev-guest.h).

One lock makes requests strictly sequential; a token bucket caps their rate. Callers choose
whether to wait for a token (the periodic loop) or be refused at once (HTTP: 429).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from akash_snp.guest.provider import GuestReport, RateLimited, ReportProvider


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up. Not thread-safe on its own."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"rate must be > 0 and burst >= 1 (got {rate}, {burst})")
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()

    def take(self) -> float:
        """Take a token and return 0, or return the seconds until one is available."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self._rate


class GuardedProvider:
    """A provider behind one lock and one token bucket."""

    def __init__(
        self,
        inner: ReportProvider,
        bucket: TokenBucket,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._inner = inner
        self._bucket = bucket
        self._sleep = sleep
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._inner.name

    def get_report(self, report_data: bytes, wait: bool = False) -> GuestReport:
        """Ask the inner provider; without ``wait`` raise ``RateLimited`` instead of waiting."""
        with self._lock:
            while (delay := self._bucket.take()) > 0:
                if not wait:
                    raise RateLimited(delay)
                self._sleep(delay)
            return self._inner.get_report(report_data)
