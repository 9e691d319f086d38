"""The real webhook process under hostile connections (issue 13, rows 1, 2, 8, 10, 11).

Loopback only. Each test reproduces an observed attack and asserts the fixed behaviour: slow and
idle connections cost no worker, are closed by their deadline, and normal admissions keep being
answered quickly; deep JSON is a short denial; a busy port and SIGTERM end cleanly.
"""

from __future__ import annotations

import datetime
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization

from akash_snp.testing.hostile import LOOPBACK, Crowd, raise_fd_limit
from akash_snp.testing.waiting import wait_until
from akash_snp.webhook.certs_command import make_ca, make_serving_cert
from akash_snp.webhook.review_test import admission, body

CROWD = 1000
# A normal admission while the crowd is connected: well under the API server's 10 s timeout.
ANSWER_WITHIN_SECONDS = 2.0


@dataclass
class Webhook:
    process: subprocess.Popen[bytes]
    port: int
    folder: Path

    @property
    def url(self) -> str:
        return f"https://{LOOPBACK}:{self.port}"

    @property
    def trust(self) -> str:
        return str(self.folder / "ca.pem")

    @property
    def log(self) -> str:
        return (self.folder / "server.log").read_text()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def _tls_files(folder: Path) -> None:
    now = datetime.datetime.now(datetime.UTC)
    ca = make_ca("hostile-ca", now, 2)
    issued = make_serving_cert(ca, "hook", "ns", now, 1, [LOOPBACK])
    key = issued.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (folder / "tls.key").write_bytes(key)
    (folder / "tls.crt").write_bytes(issued.cert.public_bytes(serialization.Encoding.PEM))
    (folder / "ca.pem").write_bytes(ca.cert.public_bytes(serialization.Encoding.PEM))


def _command(folder: Path, port: int) -> list[str]:
    return [
        sys.executable, "-m", "akash_snp.webhook.main",
        "--tls-cert", str(folder / "tls.crt"), "--tls-key", str(folder / "tls.key"),
        "--port", str(port), "--bind-address", LOOPBACK,
    ]  # fmt: skip


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


def _start(folder: Path) -> Webhook:
    port = _free_port()
    with open(folder / "server.log", "wb") as log:
        process = subprocess.Popen(
            _command(folder, port), env=_env(), stdout=subprocess.DEVNULL, stderr=log
        )
    hook = Webhook(process, port, folder)

    def ready() -> bool:
        if process.poll() is not None:
            pytest.fail(f"webhook exited: {hook.log}")
        try:
            return requests.get(f"{hook.url}/readyz", verify=hook.trust, timeout=2).ok
        except requests.ConnectionError:
            return False

    wait_until(ready, timeout=30, what="the webhook to answer /readyz")
    return hook


def _stop(hook: Webhook) -> None:
    if hook.process.poll() is None:
        hook.process.terminate()
    hook.process.wait(timeout=20)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raise_fd_limit(8 * CROWD)
    directory = tmp_path_factory.mktemp("hostile-webhook")
    _tls_files(directory)
    return directory


@pytest.fixture(scope="module")
def shared(folder: Path) -> Iterator[Webhook]:
    """One server for the attacks: each must leave it serving normally for the next."""
    hook = _start(folder)
    yield hook
    _stop(hook)


@pytest.fixture()
def webhook(folder: Path) -> Iterator[Webhook]:
    """A server of its own, for the tests that stop it."""
    hook = _start(folder)
    yield hook
    _stop(hook)


def _admissions_answered_quickly(hook: Webhook, count: int = 8) -> None:
    payload = body(admission())
    for _ in range(count):  # a new connection each time: accept, handshake, request, answer
        started = time.monotonic()
        reply = requests.post(f"{hook.url}/mutate", data=payload, verify=hook.trust, timeout=10)
        elapsed = time.monotonic() - started
        assert reply.status_code == 200
        assert reply.json()["response"]["patchType"] == "JSONPatch"
        assert elapsed < ANSWER_WITHIN_SECONDS, f"admission took {elapsed:.2f} s"


def test_slow_tls_clients_do_not_starve_admissions(shared: Webhook) -> None:
    """Row 1: 1,000 TLS clients each dripping an unfinished request head."""
    with Crowd(shared.port, CROWD, mode="slow", tls=True, drip=1.0) as crowd:
        _admissions_answered_quickly(shared)
        # the request-head deadline (10 s) closes every one of them
        wait_until(
            lambda: crowd.closed_by_peer() == CROWD, timeout=40, what="the crowd to be closed"
        )
    _admissions_answered_quickly(shared, count=2)


def test_idle_tcp_connections_do_not_delay_admissions(shared: Webhook) -> None:
    """Row 2: 1,000 TCP connections that never start the TLS handshake."""
    with Crowd(shared.port, CROWD, mode="idle") as crowd:
        _admissions_answered_quickly(shared)
        # the handshake deadline (5 s) closes them
        wait_until(
            lambda: crowd.closed_by_peer() == CROWD, timeout=30, what="the crowd to be closed"
        )


def test_deeply_nested_json_is_a_short_denial_and_one_short_log_line(shared: Webhook) -> None:
    """Row 8: 100,000 nested JSON lists."""
    lines_before = len(shared.log.splitlines())
    nested = b"[" * 100_000 + b"]" * 100_000
    for _ in range(3):
        reply = requests.post(f"{shared.url}/mutate", data=nested, verify=shared.trust)
        assert reply.status_code == 200
        answer = reply.json()
        assert answer["kind"] == "AdmissionReview"
        assert answer["response"]["allowed"] is False
        assert answer["response"]["status"]["message"].endswith("nests JSON too deeply")
    new = shared.log.splitlines()[lines_before:]
    assert len(new) == 3, new
    assert all(len(line) < 400 and "Traceback" not in line for line in new)
    assert all(json.loads(line)["reason"] == "request body nests JSON too deeply" for line in new)


def test_port_in_use_is_one_line_and_exit_2(shared: Webhook, tmp_path: Path) -> None:
    """Row 10: a second server on a busy port."""
    result = subprocess.run(
        _command(shared.folder, shared.port), env=_env(), capture_output=True, text=True,
        timeout=30,
    )  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "cannot listen on 127.0.0.1" in json.loads(lines[0])["message"]


def _tls_connection(hook: Webhook) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=hook.trust)
    raw = socket.create_connection((LOOPBACK, hook.port), timeout=10)
    return context.wrap_socket(raw, server_hostname=LOOPBACK)


def _unread_by_server(server_port: int, client: socket.socket) -> int | None:
    """Bytes the server has not read yet from the connection ``client`` opened to it: the
    ``rx_queue`` of the server's end in /proc/net/tcp (None until that end shows up there)."""
    client_port = client.getsockname()[1]
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1].split(":")[1], fields[2].split(":")[1]
        if int(local, 16) == server_port and int(remote, 16) == client_port:
            return int(fields[4].split(":")[1], 16)
    return None


def _refused(port: int) -> bool:
    try:
        socket.create_connection((LOOPBACK, port), timeout=1).close()
    except OSError:
        return True
    return False


def test_sigterm_with_an_idle_keep_alive_connection_stops_at_once(webhook: Webhook) -> None:
    """Row 11: SIGTERM while the API server holds an idle keep-alive connection."""
    session = requests.Session()
    assert session.post(
        f"{webhook.url}/mutate", data=body(admission()), verify=webhook.trust
    ).ok
    started = time.monotonic()
    webhook.process.send_signal(signal.SIGTERM)
    assert webhook.process.wait(timeout=10) == 0
    assert time.monotonic() - started < 2.0
    session.close()


def test_sigterm_finishes_the_request_in_flight_and_refuses_new_ones(webhook: Webhook) -> None:
    """Graceful shutdown: stop listening, answer the admission being received, then exit."""
    payload = body(admission())
    head = (
        f"POST /mutate HTTP/1.1\r\nHost: {LOOPBACK}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    ).encode()
    with _tls_connection(webhook) as tls:
        tls.sendall(head + payload[:100])
        wait_until(
            lambda: _unread_by_server(webhook.port, tls) == 0,
            timeout=5,
            what="the server to read the request head: the request is then in flight",
        )
        webhook.process.send_signal(signal.SIGTERM)
        wait_until(lambda: _refused(webhook.port), timeout=5, what="the listener to close")
        tls.sendall(payload[100:])
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = tls.recv(65536)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200")
    assert b'"patchType":"JSONPatch"' in answer
    assert webhook.process.wait(timeout=10) == 0
