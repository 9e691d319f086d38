"""The listening socket: Nagle off for accepted connections, one clear error for a busy port."""

from __future__ import annotations

import socket

import pytest

from akash_snp.serving.listen import BindError, listen


def test_accepted_connections_send_without_delay() -> None:
    with listen("127.0.0.1", 0) as server:
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)), server.accept()[0] as accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_busy_port_is_a_bind_error() -> None:
    with listen("127.0.0.1", 0) as server:
        port = server.getsockname()[1]
        with pytest.raises(BindError, match=f"cannot listen on 127.0.0.1:{port}: Address already"):
            listen("127.0.0.1", port)
