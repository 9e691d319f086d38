"""Serving TLS from certificate and key files that are replaced while the server runs.

The server listens with ``CertificateReloader.server_context()``: during each TLS handshake its
SNI callback (called for every ClientHello, with or without a server name) switches the
connection to ``CertificateReloader.context()``, the context rebuilt by ``service.reloader``
when either file changes. Connections already open keep the context they were accepted with, so
replacing the files never fails an in-flight request. A half-written pair (new certificate, old
key) fails to load: the old context stays in use until the pair is complete.
"""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Callable
from pathlib import Path

from akash_snp.service.reloader import Reloading, file_signature


class TLSFilesError(ValueError):
    """The certificate or key file is missing, unreadable or not a matching PEM pair."""


def build_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server-side TLS context (TLS 1.2+) serving ``cert`` with ``key``."""
    for label, path in (("certificate", cert), ("key", key)):
        if not path.is_file():
            raise TLSFilesError(f"TLS {label} file {path} does not exist")
        if not os.access(path, os.R_OK):
            raise TLSFilesError(f"TLS {label} file {path} is not readable")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(certfile=str(cert), keyfile=str(key))
    except (ssl.SSLError, OSError) as exc:
        raise TLSFilesError(f"cannot load TLS certificate {cert} with key {key}: {exc}") from exc
    return context


class CertificateReloader:
    """The current ``SSLContext`` for ``cert``/``key``, rebuilt when the files change."""

    def __init__(
        self,
        cert: Path,
        key: Path,
        check_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cert = cert
        self._key = key
        self._contexts = Reloading(
            lambda: build_context(cert, key),
            lambda: file_signature((cert, key)),
            "TLS certificate",
            check_interval,
            clock,
        )

    def context(self) -> ssl.SSLContext:
        """The context for a new connection; cheap unless a check is due."""
        return self._contexts.current()

    def server_context(self) -> ssl.SSLContext:
        """A listening context that hands each new connection the current ``context()``."""
        listening = build_context(self._cert, self._key)

        def switch(connection: ssl.SSLObject | ssl.SSLSocket, _name: str | None, _: object) -> None:
            connection.context = self.context()

        listening.sni_callback = switch
        return listening
