"""The real server: hypercorn over HTTPS on 127.0.0.1, started as a subprocess.

Checks: certificate files replaced under concurrent load fail no request and the new certificate
is served afterwards; malformed AdmissionReviews get well-formed answers, never a 5xx; metrics
count every admission; unusable certificate files are a one-line error with exit status 2.
"""

from __future__ import annotations

import base64
import datetime
import json
import operator
import os
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from akash_snp.testing.waiting import wait_until
from akash_snp.webhook.certs_command import Issued, make_ca, make_serving_cert
from akash_snp.webhook.review_test import admission, body

NOW = datetime.datetime.now(datetime.UTC)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _install(folder: Path, issued: Issued) -> None:
    """Replace tls.crt and tls.key the way a Secret volume does: new files, atomic renames."""
    key_pem = issued.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    for name, data in (
        ("tls.key", key_pem),
        ("tls.crt", issued.cert.public_bytes(serialization.Encoding.PEM)),
    ):
        temp = folder / f".{name}.new"
        temp.write_bytes(data)
        os.replace(temp, folder / name)


class Server:
    def __init__(
        self, folder: Path, process: subprocess.Popen[bytes], port: int, ca: Issued
    ) -> None:
        self.ca = ca
        self.folder = folder
        self.process = process
        self.url = f"https://127.0.0.1:{port}"
        self.port = port
        self.trust = str(folder / "trust.pem")

    @property
    def log(self) -> str:
        return (self.folder / "server.log").read_text()

    def wait_ready(self, timeout: float = 30) -> None:
        """Poll /readyz until the server answers; fail at once with its log if it exits."""

        def ready() -> bool:
            if self.process.poll() is not None:
                pytest.fail(f"server exited before it was ready: {self.log}")
            return requests.get(f"{self.url}/readyz", verify=self.trust, timeout=2).ok

        wait_until(ready, timeout, "/readyz to answer", ignoring=(requests.RequestException,))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("webhook-tls")
    ca = make_ca("test-ca", NOW, 2)
    _install(folder, make_serving_cert(ca, "hook", "ns", NOW, 1, ["127.0.0.1"]))
    (folder / "trust.pem").write_bytes(ca.cert.public_bytes(serialization.Encoding.PEM))
    (folder / "config.yaml").write_text("interval: 300\n")
    port = _free_port()
    command = [
        sys.executable, "-m", "akash_snp.webhook.main",
        "--tls-cert", str(folder / "tls.crt"), "--tls-key", str(folder / "tls.key"),
        "--port", str(port), "--bind-address", "127.0.0.1",
        "--config", str(folder / "config.yaml"),
    ]  # fmt: skip
    with open(folder / "server.log", "wb") as log:  # the child keeps its own descriptor
        process = subprocess.Popen(command, env=_env(), stdout=subprocess.DEVNULL, stderr=log)
    srv = Server(folder, process, port, ca)
    srv.wait_ready()
    yield srv
    process.terminate()
    process.wait(timeout=20)


def _served_certificate(srv: Server) -> x509.Certificate:
    context = ssl.create_default_context(cafile=srv.trust)
    with (
        socket.create_connection(("127.0.0.1", srv.port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def test_certificate_replaced_under_load_fails_nothing(server: Server) -> None:
    new = make_serving_cert(server.ca, "hook", "ns", NOW, 1, ["127.0.0.1"])
    payload = body(admission())
    failures: list[str] = []
    counts = [0] * 8
    stop = threading.Event()

    def load(index: int) -> None:
        keep_alive = index % 2 == 0
        session = requests.Session()
        while not stop.is_set():
            try:
                if not keep_alive:
                    session.close()
                reply = session.post(
                    f"{server.url}/mutate", data=payload, verify=server.trust, timeout=10
                )
                answer = reply.json()
                if reply.status_code != 200 or answer["response"]["allowed"] is not True:
                    failures.append(f"{reply.status_code} {reply.text[:200]}")
                counts[index] += 1
            except Exception as exc:
                failures.append(repr(exc))

    def wait_for_every_client() -> None:
        """Until every client has had another answer (a failure ends the wait: asserted below)."""
        baseline = counts.copy()
        wait_until(
            lambda: failures or all(map(operator.gt, counts, baseline)),
            timeout=30,
            what="another answer to every load client",
        )

    threads = [threading.Thread(target=load, args=(i,)) for i in range(len(counts))]
    for thread in threads:
        thread.start()
    wait_for_every_client()  # the load is on
    _install(server.folder, new)
    # the reloader stats the files at most once a second
    wait_until(lambda: _served_certificate(server) == new.cert, 10, "the new certificate")
    wait_for_every_client()  # the load went on through the switch
    stop.set()
    for thread in threads:
        thread.join(timeout=30)

    assert failures == []
    assert all(count > 0 for count in counts)
    # every new connection now gets the new certificate
    for _ in range(12):
        assert _served_certificate(server) == new.cert


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"this is not json", "not JSON"),
        (b'{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}', "no request"),
        (body(admission({"uid": None})), "no uid"),
        (body(admission(kind="ConfigMap")), "expected kind"),
        (b"[" + b"1," * (3 * 1024 * 1024) + b"1]", "larger than"),
    ],
    ids=["not-json", "no-request", "no-uid", "wrong-kind", "huge-body"],
)
def test_malformed_reviews_get_well_formed_answers(
    server: Server, raw: bytes, message: str
) -> None:
    reply = requests.post(f"{server.url}/mutate", data=raw, verify=server.trust, timeout=30)
    assert reply.status_code == 200
    answer = reply.json()
    assert answer["apiVersion"] == "admission.k8s.io/v1"
    assert answer["kind"] == "AdmissionReview"
    assert answer["response"]["allowed"] is False
    assert message in answer["response"]["status"]["message"]


def test_injection_over_https_and_metrics(server: Server) -> None:
    session = requests.Session()
    for _ in range(20):
        reply = session.post(f"{server.url}/mutate", data=body(admission()), verify=server.trust)
        patch = json.loads(base64.b64decode(reply.json()["response"]["patch"]))
        assert any(op["path"] == "/spec/initContainers" for op in patch)
    metrics = requests.get(f"{server.url}/metrics", verify=server.trust, timeout=10).text
    injected = [
        float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith("sev_webhook_injections_total")
    ]
    assert len(injected) == 1
    assert injected[0] >= 20


def _sidecar_args(server: Server, session: requests.Session) -> list[str]:
    reply = session.post(f"{server.url}/mutate", data=body(admission()), verify=server.trust)
    patch = json.loads(base64.b64decode(reply.json()["response"]["patch"]))
    container = next(op["value"][0] for op in patch if op["path"] == "/spec/initContainers")
    args: list[str] = container["args"]
    return args


def test_config_file_changes_apply_without_restart(server: Server) -> None:
    config = server.folder / "config.yaml"
    sessions = [requests.Session() for _ in range(4)]  # several keep-alive connections
    assert all("--interval=300" in _sidecar_args(server, s) for s in sessions)

    temp = server.folder / "config.new"
    temp.write_text("interval: 60\n")
    os.replace(temp, config)
    # the server stats the file when asked, at most every 2 s
    wait_until(
        lambda: all("--interval=60" in _sidecar_args(server, s) for s in sessions),
        timeout=10,
        what="every connection to apply the new config",
    )
    for _ in range(3):
        assert all("--interval=60" in _sidecar_args(server, s) for s in sessions)

    temp.write_text("interval: not-a-number\n")
    os.replace(temp, config)

    def rejected() -> bool:
        """Ask (the file is checked on requests), then look for the logged rejection."""
        assert "--interval=60" in _sidecar_args(server, sessions[0])
        return "config reload failed" in server.log

    wait_until(rejected, timeout=10, what="the invalid edit to be logged")
    for _ in range(3):  # the invalid edit is logged; the last good config stays in force
        assert all("--interval=60" in _sidecar_args(server, s) for s in sessions)


def test_logs_are_json_lines(server: Server) -> None:
    lines = [line for line in (server.folder / "server.log").read_text().splitlines() if line]
    assert lines
    for line in lines:
        assert isinstance(json.loads(line), dict)


def test_missing_certificate_is_a_one_line_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "akash_snp.webhook.main", "--tls-cert", str(tmp_path / "no.crt"),
         "--tls-key", str(tmp_path / "no.key")],
        env=_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "does not exist" in result.stderr
