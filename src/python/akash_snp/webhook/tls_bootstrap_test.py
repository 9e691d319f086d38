"""The in-cluster TLS bootstrap against a real HTTPS server on loopback that answers the three API
calls the way the Kubernetes API server does (Status objects, 404/409/422, JSON patch with
``test``), checking the bearer token and the server certificate. The real API server is exercised
by the cluster end-to-end test (deploy/e2e/e2e.sh)."""

from __future__ import annotations

import base64
import copy
import datetime
import json
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from akash_snp.webhook.certs_command import CertsError, key_pem, make_ca, make_serving_cert
from akash_snp.webhook.kube_api import KubeApi, KubeApiError
from akash_snp.webhook.tls_bootstrap import (
    ca_from_secret,
    ca_secret,
    ensure_ca,
    ensure_ca_bundle,
    main,
)

NOW = datetime.datetime.now(datetime.UTC)
TOKEN = "test-token"
SECRETS = "/api/v1/namespaces/sev-webhook/secrets"
MWC = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/sev-webhook"


class FakeApiServer(ThreadingHTTPServer):
    """Objects by path, and switches that reproduce what other replicas do concurrently."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.objects: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self.race_secret: dict[str, Any] | None = None  # stored just before our create
        self.mwc_after_gets = 0  # the MutatingWebhookConfiguration appears after N reads


class _Handler(BaseHTTPRequestHandler):
    server: FakeApiServer

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _status(self, code: int, message: str) -> None:
        self._answer(code, {"kind": "Status", "code": code, "message": message})

    def _handle(self) -> None:
        server = self.server
        server.requests.append((self.command, self.path))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._status(401, "Unauthorized")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body: Any = json.loads(self.rfile.read(length)) if length else None
        if self.command == "GET":
            if self.path == MWC and server.mwc_after_gets > 0:
                server.mwc_after_gets -= 1
                self._status(404, "mutatingwebhookconfigurations.admissionregistration.k8s.io "
                             '"sev-webhook" not found')
                return
            found = server.objects.get(self.path)
            if found is None:
                self._status(404, "not found")
            else:
                self._answer(200, found)
        elif self.command == "POST" and self.path == SECRETS:
            path = f"{SECRETS}/{body['metadata']['name']}"
            if server.race_secret is not None:
                server.objects[path], server.race_secret = server.race_secret, None
            if path in server.objects:
                self._status(409, f'secrets "{body["metadata"]["name"]}" already exists')
                return
            server.objects[path] = body
            self._answer(201, body)
        elif self.command == "PATCH" and self.headers["Content-Type"] == (
            "application/json-patch+json"
        ):
            self._patch(body)
        else:
            self._status(405, "method not allowed")

    def _patch(self, ops: list[dict[str, Any]]) -> None:
        target = copy.deepcopy(self.server.objects[self.path])
        for op in ops:
            _, _, index, *rest = op["path"].split("/")
            webhook = target["webhooks"][int(index)]
            if op["op"] == "test" and webhook["name"] != op["value"]:
                self._status(422, "the server rejected our request: test failed")
                return
            if op["op"] == "add" and rest == ["clientConfig", "caBundle"]:
                webhook["clientConfig"]["caBundle"] = op["value"]
        self.server.objects[self.path] = target
        self._answer(200, target)

    do_GET = do_POST = do_PATCH = _handle


@pytest.fixture()
def api(tmp_path: Path) -> Iterator[tuple[KubeApi, FakeApiServer]]:
    ca = make_ca("fake-apiserver-ca", NOW, 1)
    serving = make_serving_cert(ca, "kubernetes", "default", NOW, 1, ip_addresses=["127.0.0.1"])
    (tmp_path / "tls.crt").write_bytes(serving.cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "tls.key").write_bytes(key_pem(serving.key))
    (tmp_path / "ca.crt").write_bytes(ca.cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "token").write_text(TOKEN + "\n")
    server = FakeApiServer()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "tls.crt", tmp_path / "tls.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        yield KubeApi(f"https://127.0.0.1:{port}", tmp_path / "token", tmp_path / "ca.crt"), server
    finally:
        server.shutdown()
        server.server_close()


def _mwc(*names: str) -> dict[str, Any]:
    return {
        "metadata": {"name": "sev-webhook"},
        "webhooks": [{"name": n, "clientConfig": {"service": {"name": "x"}}} for n in names],
    }


def test_first_replica_creates_the_ca_and_later_ones_reuse_it(
    api: tuple[KubeApi, FakeApiServer],
) -> None:
    client, server = api
    first = ensure_ca(client, "sev-webhook", "sev-webhook-ca", NOW, print)
    stored = server.objects[f"{SECRETS}/sev-webhook-ca"]
    assert stored["type"] == "kubernetes.io/tls"
    again = ensure_ca(client, "sev-webhook", "sev-webhook-ca", NOW, print)
    assert again.cert == first.cert
    assert [m for m, _ in server.requests] == ["GET", "POST", "GET"]


def test_a_replica_that_loses_the_create_race_uses_the_winners_ca(
    api: tuple[KubeApi, FakeApiServer],
) -> None:
    client, server = api
    winner = make_ca("sev-webhook-ca.sev-webhook", NOW, 3650)
    server.race_secret = ca_secret("sev-webhook-ca", "sev-webhook", winner)
    lines: list[str] = []
    ca = ensure_ca(client, "sev-webhook", "sev-webhook-ca", NOW, lines.append)
    assert ca.cert == winner.cert
    assert lines == ["Secret sev-webhook-ca was created by another replica; using its CA"]


def test_ca_bundle_waits_for_the_configuration_then_patches_once(
    api: tuple[KubeApi, FakeApiServer],
) -> None:
    client, server = api
    server.objects[MWC] = _mwc("a.example", "b.example")
    server.mwc_after_gets = 2
    ensure_ca_bundle(client, "sev-webhook", "QlVORExF", time.monotonic() + 30, print, pause=0.01)
    assert [w["clientConfig"]["caBundle"] for w in server.objects[MWC]["webhooks"]] == [
        "QlVORExF",
        "QlVORExF",
    ]
    patches = len([m for m, _ in server.requests if m == "PATCH"])
    ensure_ca_bundle(client, "sev-webhook", "QlVORExF", time.monotonic() + 30, print)
    assert len([m for m, _ in server.requests if m == "PATCH"]) == patches == 1


def test_ca_bundle_gives_up_at_the_deadline(api: tuple[KubeApi, FakeApiServer]) -> None:
    client, server = api
    server.mwc_after_gets = 1_000_000
    with pytest.raises(KubeApiError, match="HTTP 404"):
        ensure_ca_bundle(client, "sev-webhook", "X", time.monotonic() + 0.2, print, pause=0.01)


def test_a_wrong_token_is_a_clear_error(api: tuple[KubeApi, FakeApiServer]) -> None:
    client, _ = api
    client.token_file.write_text("stolen")
    with pytest.raises(KubeApiError, match="HTTP 401: Unauthorized") as caught:
        ensure_ca(client, "sev-webhook", "sev-webhook-ca", NOW, print)
    assert caught.value.status == 401


def test_a_ca_close_to_expiry_or_unreadable_is_refused() -> None:
    old = make_ca("old", NOW - datetime.timedelta(days=3640), 3650)
    with pytest.raises(CertsError, match="delete the Secret"):
        ca_from_secret(ca_secret("sev-webhook-ca", "sev-webhook", old), NOW)
    broken = ca_secret("sev-webhook-ca", "sev-webhook", make_ca("x", NOW, 10))
    broken["data"]["tls.key"] = base64.b64encode(b"not a key").decode()
    with pytest.raises(CertsError, match="does not hold a PEM CA"):
        ca_from_secret(broken, NOW)


def test_outside_a_cluster_main_says_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    assert main(["--out-dir", str(tmp_path / "tls")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "sev-webhook tls-bootstrap: failed: not in a cluster: KUBERNETES_SERVICE_HOST is not set"
    ]
