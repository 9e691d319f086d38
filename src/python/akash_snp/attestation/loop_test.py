"""The periodic loop: jittered delays, and survival of anything an attempt throws."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from akash_snp.attestation.attestor import Attestor
from akash_snp.attestation.loop import AttestationLoop, next_delay
from akash_snp.attestation.metrics import AttestationMetrics
from akash_snp.attestation.outcome import Outcome
from akash_snp.attestation.state import FAILED, LastResult
from akash_snp.guest.guard import GuardedProvider, TokenBucket
from akash_snp.guest.provider import GuestReport
from akash_snp.guest.source import LocalSource
from akash_snp.testing.waiting import wait_until


def test_delay_stays_within_the_jitter_band() -> None:
    rng = random.Random(7)
    delays = [next_delay(300, 0.1, rng) for _ in range(500)]
    assert min(delays) >= 270
    assert max(delays) <= 330
    assert len({round(d) for d in delays}) > 20


class ExplodingVerifier:
    def verify(
        self, report: bytes, cert_table: bytes, at: datetime, nonce: bytes | None = None
    ) -> Outcome:
        raise RuntimeError("library bug")


class Provider:
    name = "stand-in"

    def get_report(self, report_data: bytes) -> GuestReport:
        return GuestReport(b"\0" * 1184, b"", self.name)


def test_a_raising_verifier_becomes_a_failed_status() -> None:
    guarded = GuardedProvider(Provider(), TokenBucket(10, 10))
    attestor = Attestor(
        LocalSource(guarded), ExplodingVerifier(), AttestationMetrics(), lambda: datetime.now(UTC)
    )
    last = LastResult()
    AttestationLoop(attestor, last, interval=300).run_once()
    result = last.get()
    assert result is not None
    assert result.status == FAILED
    assert "verification could not run: library bug" in result.detail


def test_loop_thread_runs_immediately_and_stops() -> None:
    guarded = GuardedProvider(Provider(), TokenBucket(10, 10))
    attestor = Attestor(
        LocalSource(guarded), ExplodingVerifier(), AttestationMetrics(), lambda: datetime.now(UTC)
    )
    last = LastResult()
    loop = AttestationLoop(attestor, last, interval=3600)
    loop.start()
    wait_until(lambda: last.get() is not None, timeout=2, what="the loop's first attestation")
    loop.stop()
