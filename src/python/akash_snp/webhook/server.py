"""Run the webhook: hypercorn over TLS with hot certificate reload, admissions on the event loop.

One process, one event loop: an admission is pure computation (well under a millisecond), so it
runs on the loop itself (``InlineWSGI``) instead of hopping to a thread, and the loop is free
again before the next request is parsed. Slow or idle connections cost only a socket, bounded by
the deadlines in ``akash_snp.serving.server.Limits``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from akash_snp.serving.listen import BindError, listen
from akash_snp.serving.server import Limits, serve
from akash_snp.serving.wsgi import InlineWSGI
from akash_snp.webhook.app import MAX_BODY_BYTES, create_app
from akash_snp.webhook.config import ConfigSource
from akash_snp.webhook.tls import CertificateReloader

_LOG = logging.getLogger("akash_snp.webhook.server")
EXIT_UNUSABLE = 2
# Bodies up to twice the application's limit reach it (and get a well-formed AdmissionReview
# denial); hypercorn answers anything larger with a bare 400 without buffering it.
BUFFERED_BODY_BYTES = 2 * MAX_BODY_BYTES


@dataclass(frozen=True)
class ServerOptions:
    """What ``main`` parsed from the command line."""

    cert: Path
    key: Path
    port: int = 8443
    bind_address: str = "0.0.0.0"  # noqa: S104 - a pod listens on all of its interfaces
    limits: Limits = field(default_factory=Limits)


def run(options: ServerOptions, source: ConfigSource, reloader: CertificateReloader) -> int:
    """Serve until SIGTERM/SIGINT; exit status 2 (one log line) when the port cannot be bound."""
    try:
        sock = listen(options.bind_address, options.port)
    except BindError as error:
        _LOG.error(str(error))
        return EXIT_UNUSABLE
    app = InlineWSGI(create_app(source), BUFFERED_BODY_BYTES)
    _LOG.info("listening", extra={"address": options.bind_address, "port": options.port})
    serve(app, sock, tls=reloader.server_context(), limits=options.limits)
    _LOG.info("stopped")
    return 0
