"""One attestation: ask the report source for a report, verify it, and turn every failure into a
status. Shared by the periodic loop and by /verify?nonce=."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from akash_snp.attest.nonce import NONCE_BINDING
from akash_snp.attestation.metrics import AttestationMetrics
from akash_snp.attestation.outcome import Verifier
from akash_snp.attestation.state import FAILED, UNAVAILABLE, VERIFIED, Attestation
from akash_snp.guest.provider import GuestError, GuestReport, ProviderUnavailable, RateLimited
from akash_snp.guest.source import ReportSource

_log = logging.getLogger(__name__)

NONCE_BINDING_SHOWN = f"nonce: {NONCE_BINDING}"
"""/verify?nonce's ``report_data_binding``."""


class Attestor:
    """Obtain and verify reports; ``RateLimited`` escapes from ``attest_nonce`` only."""

    def __init__(
        self,
        source: ReportSource,
        verifier: Verifier,
        metrics: AttestationMetrics,
        clock: Callable[[], datetime],
    ) -> None:
        self._source = source
        self._verifier = verifier
        self._metrics = metrics
        self._clock = clock

    @property
    def provider_name(self) -> str:
        return self._source.name

    def attest_nonce(self, nonce: bytes) -> Attestation:
        """A fresh report bound to a verifier's nonce; refused at once when rate-limited."""

        def obtain() -> tuple[GuestReport, str]:
            return self._source.nonce_report(nonce, wait=False), NONCE_BINDING_SHOWN

        return self._attest(obtain, NONCE_BINDING_SHOWN, "nonce", wait=False, nonce=nonce)

    def attest_periodic(self, stamp: str) -> Attestation:
        """The periodic report for RFC 3339 ``stamp``; waits for the rate limiter."""
        return self._attest(
            lambda: self._source.periodic_report(stamp, wait=True), "periodic", "periodic", True
        )

    def _attest(
        self,
        obtain: Callable[[], tuple[GuestReport, str]],
        binding: str,
        kind: str,
        wait: bool,
        nonce: bytes | None = None,
    ) -> Attestation:
        """Run ``obtain`` and verify; ``binding`` is shown if it fails before saying its own;
        ``kind`` labels the metrics; ``wait``: a refusal by the rate limiter becomes a failed
        status instead of escaping; ``nonce``: the one REPORT_DATA must commit to."""
        at = self._clock()
        result = self._obtain_and_verify(obtain, binding, at, wait, nonce)
        self._metrics.attestations.labels(kind=kind, outcome=result.status).inc()
        if result.status == VERIFIED:
            self._metrics.last_success.set(at.timestamp())
        _log.info(
            "attestation finished",
            extra={"kind": kind, "status": result.status, "provider": result.provider},
        )
        return result

    def _obtain_and_verify(
        self,
        obtain: Callable[[], tuple[GuestReport, str]],
        binding: str,
        at: datetime,
        wait: bool,
        nonce: bytes | None,
    ) -> Attestation:
        name = self._source.name

        def failed(status: str, detail: str) -> Attestation:
            return Attestation(status, at, name, detail, binding=binding)

        try:
            got, binding = obtain()
        except RateLimited as refused:
            if not wait:
                raise
            return failed(FAILED, f"obtaining a report failed: {refused}")
        except ProviderUnavailable as reason:
            return failed(UNAVAILABLE, f"SEV-SNP is unavailable: {reason}")
        except GuestError as error:
            _log.warning("obtaining a report failed: %s", error)
            return failed(FAILED, f"obtaining a report failed: {error}")
        except Exception as error:  # a provider bug must not take the sidecar down either
            _log.exception("the provider raised")
            return failed(FAILED, f"obtaining a report failed: {error!r}")
        try:
            outcome = self._verifier.verify(got.report, got.cert_table, at, nonce)
        except Exception as error:  # a verifier bug must not take the sidecar down
            _log.exception("verification raised")
            return Attestation(
                FAILED, at, got.provider, f"verification could not run: {error}", got.report,
                binding=binding,
            )
        status = VERIFIED if outcome.genuine else FAILED
        return Attestation(status, at, got.provider, outcome.output, got.report, outcome, binding)
