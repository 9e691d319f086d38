"""Entry point of ``sev-attestation``: build the service the flags ask for, then serve it with
hypercorn (one process, one event loop, handlers in a few threads: idle or slow connections hold
no thread).

With ``--provider agent`` the sidecar is a relay to the node agent (``sidecar.relay``); with a
local provider it attests and verifies itself (``sidecar.local``). ``sidecar.local`` is imported
only on that path: it loads the verifier (cryptography, the KDS client), which costs every
agent-mode pod about 16 MiB for nothing.

``sev-attestation agent ...`` runs the per-node attestation agent instead (``akash_snp.agent``):
one PEX and one image for both roles.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from akash_snp.attestation.loop import AttestationLoop
from akash_snp.attestation.metrics import AttestationMetrics
from akash_snp.attestation.timefmt import utc_now
from akash_snp.guest.agent_client import AgentHttp, AgentSettings
from akash_snp.guest.guard import TokenBucket
from akash_snp.service.jsonlog import configure_logging
from akash_snp.serving.listen import BindError, listen
from akash_snp.serving.server import serve
from akash_snp.serving.wsgi import InlineWSGI
from akash_snp.sidecar.app import Backend, answers_inline, create_app
from akash_snp.sidecar.config import AGENT_PROVIDER, SidecarConfig, parse_config
from akash_snp.sidecar.relay import RelayBackend

_log = logging.getLogger("akash_snp.sidecar")
EXIT_UNUSABLE = 2
# Every endpoint is a GET: a body is never needed.
MAX_BODY_BYTES = 64 * 1024


def _service(
    config: SidecarConfig, metrics: AttestationMetrics
) -> tuple[Backend, AttestationLoop | None, str]:
    """The backend, its periodic loop if it has one, and the provider's name for the log."""
    if config.provider == AGENT_PROVIDER:
        assert config.agent_url is not None  # parse_config insists
        http = AgentHttp(AgentSettings(config.agent_url))
        bucket = TokenBucket(config.serving.rate, config.serving.burst)
        return RelayBackend(http, bucket, metrics, utc_now), None, AGENT_PROVIDER
    from akash_snp.sidecar.local import local_service  # the verifier: local providers only

    return local_service(config, metrics)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sidecar until SIGTERM/SIGINT; exit status 2 for unusable flags or a busy port."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    if arguments[:1] == ["agent"]:
        from akash_snp.agent.main import main as agent_main

        return agent_main(arguments[1:])
    config = parse_config(arguments)
    configure_logging(config.serving.log_level)
    try:
        sock = listen(config.serving.bind_address, config.serving.port)
    except BindError as error:
        _log.error(str(error))
        return EXIT_UNUSABLE
    metrics = AttestationMetrics()
    backend, loop, provider = _service(config, metrics)
    app = InlineWSGI(create_app(backend, metrics), MAX_BODY_BYTES, answers_inline(backend))
    if loop is not None:
        loop.start()
    _log.info(
        "listening",
        extra={
            "address": config.serving.bind_address,
            "port": int(sock.getsockname()[1]),
            "provider": provider,
            "interval": config.attestation.interval,
        },
    )
    serve(app, sock, threads=config.serving.threads)
    if loop is not None:
        loop.stop()
    _log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
