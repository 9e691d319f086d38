"""Binding the listening socket before the server starts, so "port in use" is one clear error."""

from __future__ import annotations

import os
import socket


class BindError(OSError):
    """The address cannot be listened on (port in use, address not local, no permission)."""


def listen(host: str, port: int, backlog: int = 1024) -> socket.socket:
    """A listening TCP socket on ``host:port`` (IPv6 when ``host`` contains a colon)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family, backlog=backlog)
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise BindError(f"cannot listen on {host}:{port}: {reason}") from None
    # Accepted sockets inherit it. asyncio sets it only on sockets whose ``proto`` is TCP, which
    # create_server's (proto 0) are not: without it, Nagle's algorithm and the client's delayed
    # ACK hold back the second write of every answer by about 40 ms.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock
