"""A stand-in for the two API server endpoints ``sev-status`` uses, on 127.0.0.1, for tests:
the pod list (paged with ``limit``/``continue``, like the real one) and the pod proxy to each
sidecar's ``/verify``. It records what a test needs to check: the credentials sent and the
largest number of proxy requests in flight at once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

TOKEN = "sev-status-test-token"  # noqa: S105 - a test credential for the fake server


@dataclass(frozen=True)
class Reply:
    """One HTTP answer; ``delay`` seconds before it; without ``length`` no Content-Length is sent
    and the body ends when the connection closes."""

    status: int
    body: bytes
    delay: float = 0.0
    length: bool = True


Sidecar = Callable[[str | None], Reply]
"""A sidecar's answer to /verify, given the nonce parameter (or None)."""
SidecarFactory = Callable[[str], Sidecar]
"""``make_sidecar(kind)`` of the tests' conftest."""


def status_reply(code: int, message: str) -> Reply:
    """The API server's own error answer (a v1 Status)."""
    body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message,
            "code": code}
    return Reply(code, json.dumps(body).encode())


def pod(
    namespace: str,
    name: str,
    *,
    phase: str = "Running",
    sidecar: dict[str, Any] | None = None,
    injected: bool = True,
    node: str = "node-1",
) -> dict[str, Any]:
    """A pod object as the API server lists it; ``sidecar`` is the sidecar's container state
    (default running)."""
    annotations = {"sev-attestation/status": "injected"} if injected else {}
    state = {"running": {"startedAt": "2026-01-01T00:00:00Z"}} if sidecar is None else sidecar
    statuses = [{"name": "sev-attestation", "state": state}] if injected else []
    return {
        "metadata": {"namespace": namespace, "name": name, "annotations": annotations},
        "spec": {"nodeName": node},
        "status": {
            "phase": phase,
            "initContainerStatuses": statuses,
            "containerStatuses": [{"name": "web", "state": {"running": {}}}],
        },
    }


@dataclass
class FakeApiServer:
    """``pods``: every pod of the cluster; ``sidecars``: ``namespace/name`` -> answer. A pod with
    no sidecar entry gets the API server's 503 (nothing listens on the port)."""

    pods: list[dict[str, Any]]
    sidecars: dict[str, Sidecar] = field(default_factory=dict)
    list_reply: Reply | None = None
    """Answer every list request with this instead (e.g. 403)."""
    tokens: set[str] = field(default_factory=set)
    peak_in_flight: int = 0
    proxied: int = 0
    _in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str, query: dict[str, list[str]]) -> Reply:
        """Route one GET."""
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts[:3] == ["api", "v1", "pods"] and len(parts) == 3:
            return self._list(None, query)
        if parts[:3] == ["api", "v1", "namespaces"] and len(parts) == 5 and parts[4] == "pods":
            return self._list(parts[3], query)
        if len(parts) == 8 and parts[4] == "pods" and parts[6:] == ["proxy", "verify"]:
            name, _, port = parts[5].partition(":")
            if port != "8790":
                return status_reply(503, f"wrong port {port}")
            nonces = query.get("nonce")
            return self._proxy(f"{parts[3]}/{name}", nonces[0] if nonces else None)
        return status_reply(404, f"the fake has no {path}")

    def _list(self, namespace: str | None, query: dict[str, list[str]]) -> Reply:
        if self.list_reply is not None:
            return self.list_reply
        chosen = [p for p in self.pods if namespace in (None, p["metadata"]["namespace"])]
        start = int((query.get("continue") or ["0"])[0])
        limit = int((query.get("limit") or [str(len(chosen) or 1)])[0])
        end = start + limit
        token = str(end) if end < len(chosen) else ""
        page = {"kind": "PodList", "metadata": {"continue": token}, "items": chosen[start:end]}
        return Reply(200, json.dumps(page).encode())

    def _proxy(self, key: str, nonce: str | None) -> Reply:
        with self._lock:
            self._in_flight += 1
            self.proxied += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
        try:
            sidecar = self.sidecars.get(key)
            if sidecar is None:
                return status_reply(
                    503, "error trying to reach service: dial tcp 10.42.0.9:8790: "
                    "connect: connection refused"
                )
            reply = sidecar(nonce)
            time.sleep(reply.delay)  # a slow sidecar is the behaviour under test
            return reply
        finally:
            with self._lock:
                self._in_flight -= 1

    def serve(self) -> Generator[str, None, None]:
        """Run on 127.0.0.1 (a free port) until the generator is closed; yields the base URL."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.tokens.add(self.headers.get("Authorization", ""))
                url = urlsplit(self.path)
                reply = fake.answer(url.path, parse_qs(url.query, keep_blank_values=True))
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    if reply.length:
                        self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:  # the client gave up (timeout, size cap): expected
                    pass

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


def write_kubeconfig(path: Path, server: str) -> Path:
    """A kubeconfig naming ``server`` with a bearer token, like one made for a ServiceAccount."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "fake", "cluster": {"server": server}}],
        "users": [{"name": "sev-status", "user": {"token": TOKEN}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "sev-status"}}],
        "current-context": "fake",
    }
    path.write_text(json.dumps(config), encoding="utf-8")
    return path
