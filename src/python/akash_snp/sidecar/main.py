"""Entry point of ``sev-attestation``: build the report source, verifier and loop from the
configuration, then serve the app with hypercorn (one process, one event loop, handlers in a
few threads: idle or slow connections hold no thread).

``sev-attestation agent ...`` runs the per-node attestation agent instead (``akash_snp.agent``):
one PEX and one image for both roles.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from datetime import datetime

from cryptography import x509

from akash_snp.attest.constants import KDS_BASE_URL
from akash_snp.attest.errors import AttestError
from akash_snp.attest.kds import KdsClient, KdsSettings
from akash_snp.attest.policy import Policy, load_policy
from akash_snp.guest.agent_client import AgentSettings, AgentSource
from akash_snp.guest.guard import GuardedProvider, TokenBucket
from akash_snp.guest.select import ProviderConfig, UnavailableProvider, open_provider
from akash_snp.guest.source import LocalSource, ReportSource
from akash_snp.serving.listen import BindError, listen
from akash_snp.serving.server import serve
from akash_snp.serving.wsgi import threaded
from akash_snp.sidecar import logs
from akash_snp.sidecar.app import create_app
from akash_snp.sidecar.attestor import Attestor
from akash_snp.sidecar.config import AGENT_PROVIDER, SidecarConfig, parse_config
from akash_snp.sidecar.loop import AttestationLoop
from akash_snp.sidecar.metrics import SidecarMetrics
from akash_snp.sidecar.outcome import Outcome, Verifier
from akash_snp.sidecar.state import LastResult
from akash_snp.sidecar.timefmt import utc_now
from akash_snp.sidecar.verification import LibraryVerifier

_log = logging.getLogger("akash_snp.sidecar")
EXIT_UNUSABLE = 2
# Every endpoint is a GET: a body is never needed.
MAX_BODY_BYTES = 64 * 1024


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
    tenant's pod down with it (FACTS 6)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def verify(self, report: bytes, cert_table: bytes, at: datetime) -> Outcome:
        raise ConfigError(f"configuration error: {self.reason}")


def _source(config: SidecarConfig) -> ReportSource:
    """The node agent's client, or a guest interface of this VM behind the lock and bucket."""
    bucket = TokenBucket(config.rate, config.burst)
    if config.provider == AGENT_PROVIDER:
        assert config.agent_url is not None  # parse_config insists
        return AgentSource(AgentSettings(config.agent_url), bucket)
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
    return LocalSource(GuardedProvider(provider, bucket))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sidecar until SIGTERM/SIGINT; exit status 2 for unusable flags or a busy port."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    if arguments[:1] == ["agent"]:
        from akash_snp.agent.main import main as agent_main

        return agent_main(arguments[1:])
    config = parse_config(arguments)
    logs.configure(config.log_level)
    try:
        sock = listen(config.bind_address, config.port)
    except BindError as error:
        _log.error(str(error))
        return EXIT_UNUSABLE
    source = _source(config)
    # After the provider: the emulated one creates its PKI, whose root --trust-ark may name.
    verifier: Verifier
    try:
        verifier = _verifier(config)
    except ConfigError as error:
        _log.error("configuration error; every attestation will fail: %s", error)
        verifier = MisconfiguredVerifier(str(error))
    metrics = SidecarMetrics()
    attestor = Attestor(source, verifier, metrics, utc_now)
    last = LastResult()
    loop = AttestationLoop(attestor, last, config.interval, config.jitter)
    app = threaded(create_app(attestor, last, metrics), MAX_BODY_BYTES)
    loop.start()
    _log.info(
        "listening",
        extra={
            "address": config.bind_address,
            "port": int(sock.getsockname()[1]),
            "provider": source.name,
            "interval": config.interval,
        },
    )
    serve(app, sock, threads=config.threads)
    loop.stop()
    _log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
