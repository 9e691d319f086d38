"""Entry point of ``sev-attestation agent``: open the node's guest interface behind one lock and
one token bucket (the per-node firmware budget), start the KDS proxy and the node's own periodic
attestation, and serve the API until SIGTERM."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from cryptography import x509

from akash_snp.agent.app import create_app
from akash_snp.agent.config import AgentConfig, parse_agent_config
from akash_snp.agent.kds_proxy import KdsProxy
from akash_snp.agent.metrics import AgentMetrics
from akash_snp.attest.constants import KDS_BASE_URL
from akash_snp.attest.errors import AttestError
from akash_snp.attest.kds import KdsClient, KdsSettings
from akash_snp.attest.policy import Policy, load_policy
from akash_snp.guest.guard import GuardedProvider, TokenBucket
from akash_snp.guest.provider import ReportProvider
from akash_snp.guest.select import ProviderConfig, UnavailableProvider, open_provider
from akash_snp.guest.source import LocalSource
from akash_snp.serving.listen import BindError, listen
from akash_snp.serving.server import serve
from akash_snp.serving.wsgi import threaded
from akash_snp.sidecar import logs
from akash_snp.sidecar.attestor import Attestor
from akash_snp.sidecar.loop import AttestationLoop
from akash_snp.sidecar.state import LastResult
from akash_snp.sidecar.timefmt import utc_now
from akash_snp.sidecar.verification import LibraryVerifier

_log = logging.getLogger("akash_snp.agent")
EXIT_UNUSABLE = 2
# Every endpoint is a GET: a body is never needed.
MAX_BODY_BYTES = 64 * 1024


def _provider(config: AgentConfig) -> ReportProvider:
    """The configured interface; a node without one still runs and answers 503 with the reason."""
    try:
        return open_provider(
            ProviderConfig(
                kind=config.provider,
                configfs_root=config.configfs_root,
                device=config.device,
                emulated_pki_dir=config.emulated_pki_dir,
                emulated_product=config.emulated_product,
                emulated_cert_table=config.emulated_cert_table,
            )
        )
    except (ValueError, OSError, AttestError) as error:
        _log.error("cannot set up the %s provider: %s", config.provider, error)
        return UnavailableProvider(f"the {config.provider} provider failed to start: {error}")


def _trusted_roots(config: AgentConfig) -> list[x509.Certificate]:
    roots = []
    for path in config.trust_ark:
        try:
            roots.append(x509.load_pem_x509_certificate(path.read_bytes()))
        except (OSError, ValueError) as error:
            raise SystemExit(f"sev-attestation agent: --trust-ark {path}: {error}") from error
    return roots


def _policy(config: AgentConfig) -> Policy:
    """--policy's file, or the library's defaults; an unusable file stops the agent (exit 2
    with the reason): a DaemonSet restarting with its error is better than a node whose every
    pod would report failures nobody configured."""
    if config.policy is None:
        return Policy()
    try:
        return load_policy(config.policy.read_bytes())
    except (OSError, AttestError) as error:
        raise SystemExit(f"sev-attestation agent: --policy {config.policy}: {error}") from error


def main(argv: Sequence[str] | None = None) -> int:
    """Run the agent until SIGTERM/SIGINT; exit status 2 for unusable flags or a busy port."""
    config = parse_agent_config(argv)
    logs.configure(config.log_level)
    try:
        sock = listen(config.bind_address, config.port)
    except BindError as error:
        _log.error(str(error))
        return EXIT_UNUSABLE
    metrics = AgentMetrics()
    provider = GuardedProvider(_provider(config), TokenBucket(config.rate, config.burst))
    # After the provider: the emulated one creates its PKI, whose root --trust-ark may name.
    roots = _trusted_roots(config)
    if config.kds_cache_dir is not None:
        config.kds_cache_dir.mkdir(parents=True, exist_ok=True)
    client = KdsClient(
        KdsSettings(base_url=config.kds_url or KDS_BASE_URL, cache_dir=config.kds_cache_dir),
        on_fetch=lambda _url: metrics.kds_upstream_requests.inc(),
    )
    proxy = KdsProxy(client, metrics)
    attestor = Attestor(
        LocalSource(provider), LibraryVerifier(client, _policy(config), roots),
        metrics.attestation, utc_now,
    )  # fmt: skip
    last = LastResult()
    loop = AttestationLoop(attestor, last, config.interval)

    loop.start()
    _log.info(
        "listening",
        extra={
            "address": config.bind_address,
            "port": int(sock.getsockname()[1]),
            "provider": provider.name,
        },
    )
    # every pod of the node talks to this process: the server's deadlines, not a thread per
    # connection, bound what idle or slow ones cost (akash_snp.serving)
    app = create_app(provider, proxy, attestor, last, metrics)
    serve(threaded(app, MAX_BODY_BYTES), sock, threads=config.threads)
    _log.info("stopping")
    loop.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
