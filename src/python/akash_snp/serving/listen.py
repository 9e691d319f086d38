"""Binding the listening socket before the server starts, so "port in use" is one clear error."""

from __future__ import annotations

import socket


class BindError(OSError):
    """The address cannot be listened on (port in use, address not local, no permission)."""


def listen(host: str, port: int, backlog: int = 1024) -> socket.socket:
    """A listening TCP socket on ``host:port`` (IPv6 when ``host`` contains a colon)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=backlog)
    except OSError as error:
        reason = error.strerror or str(error)
        raise BindError(f"cannot listen on {host}:{port}: {reason}") from None
