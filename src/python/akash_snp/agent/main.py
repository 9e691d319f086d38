"""Entry point of ``sev-attestation agent``: open the node's guest interface behind one lock and
one token bucket (the per-node firmware budget), start the KDS proxy and the node's own periodic
attestation, and serve the API until SIGTERM."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from akash_snp.agent.app import create_app
from akash_snp.agent.config import parse_agent_config
from akash_snp.agent.kds_proxy import KdsProxy
from akash_snp.agent.metrics import AgentMetrics
from akash_snp.attest.errors import AttestError
from akash_snp.attestation.attestor import Attestor
from akash_snp.attestation.loop import AttestationLoop
from akash_snp.attestation.state import LastResult
from akash_snp.attestation.timefmt import utc_now
from akash_snp.attestation.verification import build_verifier
from akash_snp.guest.select import open_guarded
from akash_snp.guest.source import LocalSource
from akash_snp.service.jsonlog import configure_logging
from akash_snp.serving.listen import BindError, listen
from akash_snp.serving.server import serve
from akash_snp.serving.wsgi import threaded

_log = logging.getLogger("akash_snp.agent")
EXIT_UNUSABLE = 2
# Every endpoint is a GET: a body is never needed.
MAX_BODY_BYTES = 64 * 1024


def main(argv: Sequence[str] | None = None) -> int:
    """Run the agent until SIGTERM/SIGINT; exit status 2 for unusable flags or a busy port."""
    config = parse_agent_config(argv)
    configure_logging(config.serving.log_level)
    try:
        sock = listen(config.serving.bind_address, config.serving.port)
    except BindError as error:
        _log.error(str(error))
        return EXIT_UNUSABLE
    metrics = AgentMetrics()
    provider = open_guarded(config.guest, config.serving.rate, config.serving.burst)
    # After the provider: the emulated one creates its PKI, whose root --trust-ark may name.
    # An unusable policy, root or cache directory stops the agent (exit 2 with the reason): a
    # DaemonSet restarting with its error is better than a node whose every pod would report
    # failures nobody configured.
    try:
        client, verifier = build_verifier(
            config.attestation, on_fetch=lambda _url: metrics.kds_upstream_requests.inc()
        )
    except AttestError as error:
        _log.error(str(error))
        return EXIT_UNUSABLE
    proxy = KdsProxy(client, metrics)
    attestor = Attestor(LocalSource(provider), verifier, metrics.attestation, utc_now)
    last = LastResult()
    loop = AttestationLoop(
        attestor, last, config.attestation.interval, config.attestation.jitter
    )

    loop.start()
    _log.info(
        "listening",
        extra={
            "address": config.serving.bind_address,
            "port": int(sock.getsockname()[1]),
            "provider": provider.name,
        },
    )
    # every pod of the node talks to this process: the server's deadlines, not a thread per
    # connection, bound what idle or slow ones cost (akash_snp.serving)
    app = create_app(provider, proxy, attestor, last, metrics)
    serve(threaded(app, MAX_BODY_BYTES), sock, threads=config.serving.threads)
    _log.info("stopping")
    loop.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
