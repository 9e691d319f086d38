"""Graceful drain of the real server (``--drain-seconds``): after SIGTERM it keeps answering, on
kept-alive and on new connections, every answer closing its connection, then stops. This is what
lets a Kubernetes rollout replace a replica without the API server ever reusing a connection that
is being closed (the e2e test counts zero rejected admissions during a rollout)."""

from __future__ import annotations

import datetime
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization

from akash_snp.testing.waiting import wait_until
from akash_snp.webhook.certs_command import make_ca, make_serving_cert
from akash_snp.webhook.review_test import admission, body
from akash_snp.webhook.server_test import Server, _env, _free_port, _install

NOW = datetime.datetime.now(datetime.UTC)
DRAIN_SECONDS = 2.0


@pytest.fixture()
def draining_server(tmp_path: Path) -> Iterator[Server]:
    ca = make_ca("test-ca", NOW, 2)
    _install(tmp_path, make_serving_cert(ca, "hook", "ns", NOW, 1, ["127.0.0.1"]))
    (tmp_path / "trust.pem").write_bytes(ca.cert.public_bytes(serialization.Encoding.PEM))
    port = _free_port()
    command = [
        sys.executable, "-m", "akash_snp.webhook.main",
        "--tls-cert", str(tmp_path / "tls.crt"), "--tls-key", str(tmp_path / "tls.key"),
        "--port", str(port), "--bind-address", "127.0.0.1",
        "--drain-seconds", str(DRAIN_SECONDS),
    ]  # fmt: skip
    with open(tmp_path / "server.log", "wb") as log:
        process = subprocess.Popen(command, env=_env(), stdout=subprocess.DEVNULL, stderr=log)
    server = Server(tmp_path, process, port, ca)
    server.wait_ready()
    yield server
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


def _draining(server: Server) -> bool:
    return '"message":"draining"' in server.log.replace(" ", "")


def _admit(session: requests.Session, server: Server) -> requests.Response:
    return session.post(
        f"{server.url}/mutate", data=body(admission()), verify=server.trust, timeout=5
    )


def test_after_sigterm_answers_close_their_connection_then_the_server_stops(
    draining_server: Server,
) -> None:
    kept = requests.Session()
    before = _admit(kept, draining_server)
    assert before.status_code == 200
    assert before.headers.get("Connection", "").lower() != "close"  # kept alive until the drain

    started = time.monotonic()
    draining_server.process.send_signal(signal.SIGTERM)
    wait_until(lambda: _draining(draining_server), 10, "the server to log that it drains")
    on_kept = _admit(kept, draining_server)  # the connection opened before SIGTERM
    assert on_kept.status_code == 200
    assert on_kept.json()["response"]["allowed"] is True
    assert on_kept.headers["Connection"].lower() == "close"
    on_new = _admit(requests.Session(), draining_server)  # still accepting: endpoints lag
    assert on_new.status_code == 200
    assert on_new.headers["Connection"].lower() == "close"

    assert draining_server.process.wait(timeout=DRAIN_SECONDS + 10) == 0
    stopped = time.monotonic() - started
    assert DRAIN_SECONDS <= stopped < DRAIN_SECONDS + 5, stopped
    assert _draining(draining_server)
