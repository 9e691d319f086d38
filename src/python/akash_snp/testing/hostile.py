"""Hostile clients for the servers' resilience tests: crowds of idle or slow raw connections.

Everything here talks to 127.0.0.1 only. A ``Crowd`` opens many sockets and, in a background
thread, drips one byte of an unfinished request header on each at a fixed pace, the way a
slowloris attack does; ``closed_by_peer`` tells which of them the server has since closed.
"""

from __future__ import annotations

import resource
import select
import socket
import ssl
import threading
from types import TracebackType

LOOPBACK = "127.0.0.1"
PARTIAL_HEAD = b"POST /mutate HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "

def raise_fd_limit(wanted: int) -> int:
    """Raise this process's soft RLIMIT_NOFILE towards ``wanted`` (never above the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def _tls_client() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class Crowd:
    """``count`` connections to ``port``: ``idle`` (TCP only, not even a TLS handshake) or
    ``slow`` (TLS when ``tls``, then an unfinished request head, one more byte every ``drip``
    seconds)."""

    def __init__(
        self,
        port: int,
        count: int,
        *,
        mode: str,
        tls: bool = False,
        drip: float = 1.0,
        connect_timeout: float = 10.0,
    ) -> None:
        if mode not in ("idle", "slow"):
            raise ValueError(mode)
        self.port = port
        self.count = count
        self.mode = mode
        self.tls = tls
        self.drip = drip
        self.connect_timeout = connect_timeout
        self.handshakes_stalled = False
        self.sockets: list[socket.socket] = []
        self._closed: set[int] = set()
        self._stop = threading.Event()
        self._lock = threading.Lock()  # the dripper and closed_by_peer share the sockets
        self._dripper = threading.Thread(target=self._drip_forever, daemon=True)

    def _open_one(self) -> socket.socket:
        raw = socket.create_connection((LOOPBACK, self.port), timeout=self.connect_timeout)
        if self.mode == "idle" or self.handshakes_stalled:
            return raw
        if self.tls:
            try:
                sock: socket.socket = _tls_client().wrap_socket(raw)
            except OSError:
                # The server no longer completes handshakes (every worker is held): open the
                # rest as plain connections, which wait in its queue just the same.
                self.handshakes_stalled = True
                return raw
        else:
            sock = raw
        sock.sendall(PARTIAL_HEAD)
        return sock

    def __enter__(self) -> Crowd:
        for _ in range(self.count):
            self.sockets.append(self._open_one())
        if self.mode == "slow":
            self._dripper.start()
        return self

    def _drip_forever(self) -> None:
        while not self._stop.wait(self.drip):  # the slowloris pace: the behaviour under test
            with self._lock:
                self._drip_once()

    def _drip_once(self) -> None:
        for index, sock in enumerate(self.sockets):
            if index in self._closed:
                continue
            try:
                sock.send(b"a")
            except OSError:
                self._closed.add(index)

    def closed_by_peer(self) -> int:
        """How many of the connections the server has closed or answered (with an error)."""
        with self._lock:
            return self._count_closed()

    def _count_closed(self) -> int:
        poller = select.poll()  # select() cannot watch descriptors above 1023
        by_fd = {}
        for index, sock in enumerate(self.sockets):
            if index not in self._closed:
                by_fd[sock.fileno()] = index
                poller.register(sock, select.POLLIN | select.POLLERR | select.POLLHUP)
        for fd, _ in poller.poll(0):
            sock = self.sockets[by_fd[fd]]
            sock.setblocking(False)
            try:
                sock.recv(4096)
            except (ssl.SSLWantReadError, BlockingIOError):
                continue  # part of a TLS record: not yet known
            except OSError:
                pass
            finally:
                sock.setblocking(True)
            self._closed.add(by_fd[fd])
        return len(self._closed)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._dripper.is_alive():
            self._dripper.join(timeout=5)
        for sock in self.sockets:
            sock.close()
