"""The sidecar with a guest interface of its own VM (configfs-tsm, ioctl, emulated): it obtains
and verifies reports in this process, periodically and for /verify?nonce=.

Only ``sidecar.main`` imports this module, and only for a local provider: it pulls in the verifier
(cryptography, the KDS client), which the agent-mode relay must not pay for.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime

from akash_snp.attest.errors import AttestError
from akash_snp.attest.trust import InputFileError
from akash_snp.attestation.attestor import Attestor
from akash_snp.attestation.loop import AttestationLoop
from akash_snp.attestation.metrics import AttestationMetrics
from akash_snp.attestation.outcome import Outcome, Verifier
from akash_snp.attestation.state import Attestation, LastResult
from akash_snp.attestation.timefmt import utc_now
from akash_snp.attestation.verification import build_verifier
from akash_snp.attestation.views import attestation_json
from akash_snp.guest.select import open_guarded
from akash_snp.guest.source import LocalSource
from akash_snp.sidecar.config import SidecarConfig

_log = logging.getLogger("akash_snp.sidecar")


class MisconfiguredVerifier:
    """Stands in when the policy or a trusted root cannot be loaded: every attestation is then
    reported as failed with the reason, instead of the sidecar crash-looping and taking the
    tenant's pod down with it (the Akash provider reports lease health from ready replicas:
    akash-network/provider, cluster/kube/client.go)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def verify(
        self, report: bytes, cert_table: bytes, at: datetime, nonce: bytes | None = None
    ) -> Outcome:
        raise InputFileError(f"configuration error: {self.reason}")


class LocalBackend:
    """/verify from the periodic loop's last result, /verify?nonce= attested and verified here."""

    def __init__(self, attestor: Attestor, last: LastResult) -> None:
        self._attestor = attestor
        self._last = last
        self._lock = threading.Lock()
        self._cached: tuple[Attestation | None, bytes] | None = None

    def periodic_body(self) -> bytes:
        """Encoded once per result (every 300 s) instead of once per request: it is about 16 KB
        of JSON."""
        result = self._last.get()
        with self._lock:
            if self._cached is None or self._cached[0] is not result:
                body = attestation_json(result, self._attestor.provider_name)
                self._cached = (result, _encode(body))
            return self._cached[1]

    def fresh_body(self, nonce: bytes) -> bytes:
        body = attestation_json(self._attestor.attest_nonce(nonce), self._attestor.provider_name)
        body["nonce"] = nonce.hex()
        return _encode(body)

    def periodic_at_hand(self) -> bool:
        """Always: the last result is in memory and encoded once (no I/O)."""
        return True

    def attestation_status(self) -> str:
        result = self._last.get()
        return result.status if result else "pending"


def _encode(body: dict[str, object]) -> bytes:
    return json.dumps(body).encode() + b"\n"


def local_service(
    config: SidecarConfig, metrics: AttestationMetrics
) -> tuple[LocalBackend, AttestationLoop, str]:
    """The backend, its periodic loop (not started) and the provider's name for the log."""
    provider = open_guarded(config.guest, config.serving.rate, config.serving.burst)
    # After the provider: the emulated one creates its PKI, whose root --trust-ark may name.
    verifier: Verifier
    try:
        _, verifier = build_verifier(config.attestation)
    except AttestError as error:
        _log.error("configuration error; every attestation will fail: %s", error)
        verifier = MisconfiguredVerifier(str(error))
    attestor = Attestor(LocalSource(provider), verifier, metrics, utc_now)
    last = LastResult()
    loop = AttestationLoop(attestor, last, config.attestation.interval, config.attestation.jitter)
    return LocalBackend(attestor, last), loop, provider.name
