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

from cryptography import x509

from akash_snp.attest.constants import KDS_BASE_URL
from akash_snp.attest.errors import AttestError
from akash_snp.attest.kds import KdsClient, KdsSettings
from akash_snp.attest.policy import Policy, load_policy
from akash_snp.guest.guard import GuardedProvider, TokenBucket
from akash_snp.guest.select import ProviderConfig, UnavailableProvider, open_provider
from akash_snp.guest.source import LocalSource
from akash_snp.sidecar.attestor import Attestor
from akash_snp.sidecar.config import SidecarConfig
from akash_snp.sidecar.loop import AttestationLoop
from akash_snp.sidecar.metrics import SidecarMetrics
from akash_snp.sidecar.outcome import Outcome, Verifier
from akash_snp.sidecar.state import Attestation, LastResult
from akash_snp.sidecar.timefmt import utc_now
from akash_snp.sidecar.verification import LibraryVerifier
from akash_snp.sidecar.views import attestation_json

_log = logging.getLogger("akash_snp.sidecar")


class ConfigError(Exception):
    """A configured file (policy, trusted root, emulated PKI) cannot be used."""


def _verifier(config: SidecarConfig) -> LibraryVerifier:
    settings = KdsSettings(base_url=config.kds_url or KDS_BASE_URL, cache_dir=config.kds_cache_dir)
    policy = Policy()
    if config.policy is not None:
        try:
            policy = load_policy(config.policy.read_bytes())
        except (OSError, AttestError) as error:
            raise ConfigError(f"--policy {config.policy}: {error}") from error
    roots = []
    for path in config.trust_ark:
        try:
            roots.append(x509.load_pem_x509_certificate(path.read_bytes()))
        except (OSError, ValueError) as error:
            raise ConfigError(f"--trust-ark {path}: {error}") from error
    if config.kds_cache_dir is not None:
        try:
            config.kds_cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigError(f"--kds-cache-dir {config.kds_cache_dir}: {error}") from error
    return LibraryVerifier(KdsClient(settings), policy, roots)


class MisconfiguredVerifier:
    """Stands in when the policy or a trusted root cannot be loaded: every attestation is then
    reported as failed with the reason, instead of the sidecar crash-looping and taking the
    tenant's pod down with it (the Akash provider reports lease health from ready replicas:
    akash-network/provider, cluster/kube/client.go)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def verify(self, report: bytes, cert_table: bytes, at: datetime) -> Outcome:
        raise ConfigError(f"configuration error: {self.reason}")


def _source(config: SidecarConfig) -> LocalSource:
    """The configured guest interface of this VM, behind the lock and the token bucket."""
    try:
        provider = open_provider(
            ProviderConfig(
                kind=config.provider,
                configfs_root=config.configfs_root,
                device=config.device,
                emulated_pki_dir=config.emulated_pki_dir,
                emulated_product=config.emulated_product,
            )
        )
    except (ValueError, OSError, AttestError) as error:
        _log.error("cannot set up the %s provider: %s", config.provider, error)
        provider = UnavailableProvider(f"the {config.provider} provider failed to start: {error}")
    return LocalSource(GuardedProvider(provider, TokenBucket(config.rate, config.burst)))


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

    def attestation_status(self) -> str:
        result = self._last.get()
        return result.status if result else "pending"


def _encode(body: dict[str, object]) -> bytes:
    return json.dumps(body).encode() + b"\n"


def local_service(
    config: SidecarConfig, metrics: SidecarMetrics
) -> tuple[LocalBackend, AttestationLoop, str]:
    """The backend, its periodic loop (not started) and the provider's name for the log."""
    source = _source(config)
    # After the provider: the emulated one creates its PKI, whose root --trust-ark may name.
    verifier: Verifier
    try:
        verifier = _verifier(config)
    except ConfigError as error:
        _log.error("configuration error; every attestation will fail: %s", error)
        verifier = MisconfiguredVerifier(str(error))
    attestor = Attestor(source, verifier, metrics, utc_now)
    last = LastResult()
    loop = AttestationLoop(attestor, last, config.interval, config.jitter)
    return LocalBackend(attestor, last), loop, source.name
