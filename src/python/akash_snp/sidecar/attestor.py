"""One attestation: ask the (guarded) provider for a report, verify it, and turn every failure
into a status. Shared by the periodic loop and by /verify?nonce=."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from akash_snp.guest.guard import GuardedProvider
from akash_snp.guest.provider import GuestError, ProviderUnavailable, RateLimited
from akash_snp.sidecar.metrics import SidecarMetrics
from akash_snp.sidecar.outcome import Verifier
from akash_snp.sidecar.state import FAILED, UNAVAILABLE, VERIFIED, Attestation

_log = logging.getLogger(__name__)


class Attestor:
    """Obtain and verify reports; ``RateLimited`` is the only exception that escapes."""

    def __init__(
        self,
        provider: GuardedProvider,
        verifier: Verifier,
        metrics: SidecarMetrics,
        clock: Callable[[], datetime],
    ) -> None:
        self._provider = provider
        self._verifier = verifier
        self._metrics = metrics
        self._clock = clock

    @property
    def provider_name(self) -> str:
        return self._provider.name

    def attest(self, report_data: bytes, binding: str, kind: str, wait: bool) -> Attestation:
        """Obtain a report over ``report_data`` (``binding`` says how it was derived) and verify
        it; ``kind`` labels the metrics; ``wait`` waits for the rate limiter instead of raising."""
        at = self._clock()
        result = replace(self._attest(report_data, at, wait), binding=binding)
        self._metrics.attestations.labels(kind=kind, outcome=result.status).inc()
        if result.status == VERIFIED:
            self._metrics.last_success.set(at.timestamp())
        _log.info(
            "attestation finished",
            extra={"kind": kind, "status": result.status, "provider": result.provider},
        )
        return result

    def _attest(self, report_data: bytes, at: datetime, wait: bool) -> Attestation:
        name = self._provider.name
        try:
            got = self._provider.get_report(report_data, wait=wait)
        except RateLimited:
            raise
        except ProviderUnavailable as reason:
            return Attestation(UNAVAILABLE, at, name, f"SEV-SNP is unavailable: {reason}")
        except GuestError as error:
            _log.warning("obtaining a report failed: %s", error)
            return Attestation(FAILED, at, name, f"obtaining a report failed: {error}")
        except Exception as error:  # a provider bug must not take the sidecar down either
            _log.exception("the provider raised")
            return Attestation(FAILED, at, name, f"obtaining a report failed: {error!r}")
        try:
            outcome = self._verifier.verify(got.report, got.cert_table, at)
        except Exception as error:  # a verifier bug must not take the sidecar down
            _log.exception("verification raised")
            return Attestation(
                FAILED, at, got.provider, f"verification could not run: {error}", got.report
            )
        status = VERIFIED if outcome.genuine else FAILED
        return Attestation(status, at, got.provider, outcome.output, got.report, outcome)
