"""Serialisation and rate limiting in front of a provider."""

from __future__ import annotations

import threading
import time

import pytest

from akash_snp.guest.guard import GuardedProvider, TokenBucket
from akash_snp.guest.provider import GuestReport, RateLimited

DATA = b"\x07" * 64


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class CountingProvider:
    name = "counting"

    def __init__(self) -> None:
        self.active = 0
        self.max_active = 0
        self.calls = 0
        self._lock = threading.Lock()

    def get_report(self, report_data: bytes) -> GuestReport:
        with self._lock:
            self.active += 1
            self.calls += 1
            self.max_active = max(self.max_active, self.active)
        time.sleep(0.01)  # a report takes time: concurrent callers overlap unless serialised
        with self._lock:
            self.active -= 1
        return GuestReport(report_data, b"", self.name)


def test_bucket_allows_burst_then_refills() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=0.5, burst=2, clock=clock)
    assert bucket.take() == 0
    assert bucket.take() == 0
    assert bucket.take() == pytest.approx(2.0)
    clock.now += 1.0
    assert bucket.take() == pytest.approx(1.0)
    clock.now += 1.0
    assert bucket.take() == 0


def test_bucket_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="rate must be"):
        TokenBucket(rate=0, burst=1)


def test_refuses_without_wait_and_waits_when_asked() -> None:
    clock = FakeClock()
    inner = CountingProvider()
    guarded = GuardedProvider(inner, TokenBucket(1.0, 1, clock=clock), sleep=clock.sleep)
    assert guarded.get_report(DATA).report == DATA
    with pytest.raises(RateLimited) as refused:
        guarded.get_report(DATA)
    assert refused.value.retry_after == pytest.approx(1.0)
    assert guarded.get_report(DATA, wait=True).report == DATA
    assert clock.now == pytest.approx(1001.0)
    assert inner.calls == 2


def test_requests_are_serialised() -> None:
    inner = CountingProvider()
    guarded = GuardedProvider(inner, TokenBucket(1000.0, 100))
    threads = [threading.Thread(target=guarded.get_report, args=(DATA,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert inner.calls == 8
    assert inner.max_active == 1
