"""Serving TLS from certificate and key files that are replaced while the server runs.

The server listens with ``CertificateReloader.server_context()``: during each TLS handshake its
SNI callback (called for every ClientHello, with or without a server name) switches the
connection to ``CertificateReloader.context()``. At most once per ``check_interval`` that stats
both files; when either changed it builds a new context and hands that out from then on.
Connections already open keep the context they were accepted with, so replacing the files never
fails an in-flight request. A half-written pair (new certificate, old key) fails to load: the old
context stays in use, the error is logged, and the next check tries again.
"""

from __future__ import annotations

import logging
import os
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path

_LOG = logging.getLogger(__name__)

_Stamp = tuple[tuple[int, int, int, int], tuple[int, int, int, int]]


class TLSFilesError(ValueError):
    """The certificate or key file is missing, unreadable or not a matching PEM pair."""


def _stamp_of(path: Path) -> tuple[int, int, int, int]:
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


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
        self._interval = check_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._stamp = self._current_stamp()
        self._context = build_context(cert, key)
        self._next_check = clock() + check_interval

    def _current_stamp(self) -> _Stamp | None:
        try:
            return (_stamp_of(self._cert), _stamp_of(self._key))
        except OSError:
            return None

    def context(self) -> ssl.SSLContext:
        """The context for a new connection; cheap unless a check is due."""
        if self._clock() < self._next_check:
            return self._context
        with self._lock:
            now = self._clock()
            if now >= self._next_check:
                self._next_check = now + self._interval
                self._reload_if_changed()
            return self._context

    def server_context(self) -> ssl.SSLContext:
        """A listening context that hands each new connection the current ``context()``."""
        listening = build_context(self._cert, self._key)

        def switch(connection: ssl.SSLObject | ssl.SSLSocket, _name: str | None, _: object) -> None:
            connection.context = self.context()

        listening.sni_callback = switch
        return listening

    def _reload_if_changed(self) -> None:
        stamp = self._current_stamp()
        if stamp is None or stamp == self._stamp:
            return
        try:
            self._context = build_context(self._cert, self._key)
        except TLSFilesError as exc:
            _LOG.error(
                "TLS reload failed, serving the previous certificate", extra={"error": str(exc)}
            )
            return
        self._stamp = stamp
        _LOG.info("TLS certificate reloaded", extra={"cert": str(self._cert)})
