"""The sidecar's WSGI application: /verify, /verify?nonce=, /healthz, /readyz, /metrics.

Handlers only translate HTTP to a ``Backend`` and back: the local one attests and verifies in this
process (``sidecar.local``), the relay asks the node agent (``sidecar.relay``). Nothing here talks
to the firmware or verifies, so the relay's process never imports the verifier.

Plain WSGI rather than Flask: five GET endpoints need no framework, and Flask with Werkzeug,
Jinja2 and Click costs every tenant pod about 8 MiB of RSS, which kept the agent-mode sidecar
above its 40 MiB budget (``benchmarks/agent/README.md``).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol
from urllib.parse import parse_qsl

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from akash_snp.attest.nonce import NonceError, parse_nonce_hex
from akash_snp.attestation.metrics import AttestationMetrics
from akash_snp.guest.provider import RateLimited
from akash_snp.serving.wsgi_app import StartResponse, WsgiApp, shown_path

_ENDPOINTS = frozenset({"/verify", "/healthz", "/readyz", "/metrics"})
# Query parameters each endpoint understands; any other is refused, so that a misspelling
# (``?NONCE=``, ``?nonce[]=``) is not silently answered with the cached, nonce-less report.
_PARAMETERS = {"/verify": frozenset({"nonce"})}
_JSON = "application/json"
_REASONS = {200: "OK", 400: "BAD REQUEST", 404: "NOT FOUND", 405: "METHOD NOT ALLOWED",
            429: "TOO MANY REQUESTS"}  # fmt: skip

Reply = tuple[int, bytes, str, list[tuple[str, str]]]
"""(status, body, content type, extra headers)."""


class Backend(Protocol):
    """Where /verify's answers come from."""

    def periodic_body(self) -> bytes:
        """The /verify body (JSON): the last periodic attestation."""
        ...

    def fresh_body(self, nonce: bytes) -> bytes:
        """The /verify?nonce= body (JSON) for a fresh report bound to ``nonce``; raise
        ``RateLimited`` to refuse with 429."""
        ...

    def attestation_status(self) -> str:
        """The last known attestation status, for /readyz (never blocks)."""
        ...

    def periodic_at_hand(self) -> bool:
        """True when ``periodic_body()`` answers at once, without I/O or a lock held across
        I/O: such requests are served on the event loop (``answers_inline``)."""
        ...


# Endpoints that never block: served on the event loop (no thread hop).
_INLINE = frozenset({"/healthz", "/readyz", "/metrics"})


def answers_inline(backend: Backend) -> Callable[[Mapping[str, object]], bool]:
    """Whether a request (an ASGI scope) can be answered on the event loop: the health checks,
    metrics and the cached /verify; a nonce-bound /verify, or the first one, waits for a report
    or the agent and runs in a thread."""

    def inline(scope: Mapping[str, object]) -> bool:
        path = scope.get("path", "")
        if path in _INLINE:
            return True
        return path == "/verify" and not scope.get("query_string") and backend.periodic_at_hand()

    return inline


def _json(status: int, body: dict[str, Any], headers: list[tuple[str, str]] | None = None) -> Reply:
    return status, json.dumps(body).encode() + b"\n", _JSON, headers or []


def _error(status: int, message: str, **extra: Any) -> Reply:
    return _json(status, {"error": message, **extra})


def create_app(backend: Backend, metrics: AttestationMetrics) -> WsgiApp:
    """Build the app around a backend."""

    def verify(nonces: list[str]) -> Reply:
        if not nonces:
            return 200, backend.periodic_body(), _JSON, []
        if len(nonces) > 1:
            return _error(400, "give exactly one nonce parameter")
        try:
            nonce = parse_nonce_hex(nonces[0])
        except NonceError as error:
            return _error(400, str(error))
        try:
            return 200, backend.fresh_body(nonce), _JSON, []
        except RateLimited as refused:
            metrics.rate_limited.inc()
            wait = str(max(1, math.ceil(refused.retry_after)))
            body = {"error": str(refused), "retry_after_seconds": refused.retry_after}
            return _json(429, body, [("Retry-After", wait)])

    def route(method: str, path: str, query: str) -> Reply:
        if path not in _ENDPOINTS:
            return _error(404, f"no such endpoint: {shown_path(path)}")
        if method not in ("GET", "HEAD"):
            return _error(405, f"method {method[:16]} not allowed on {shown_path(path)}")
        args = parse_qsl(query, keep_blank_values=True)
        unknown = {name for name, _ in args} - _PARAMETERS.get(path, frozenset())
        if unknown:
            names = ", ".join(sorted(repr(name[:40]) for name in unknown)[:5])
            return _error(400, f"unknown query parameter(s): {names}")
        if path == "/verify":
            return verify([value for _, value in args])
        if path == "/healthz":
            return _json(200, {"status": "ok"})
        if path == "/readyz":
            # Ready even when SNP is unavailable: a sidecar that never becomes ready takes the
            # tenant's lease down (the Akash provider reports lease health from ready replicas);
            # /verify says "unavailable" instead.
            status = backend.attestation_status()
            return _json(200, {"status": "ready", "attestation_status": status})
        return 200, generate_latest(metrics.registry), CONTENT_TYPE_LATEST, []

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        method = environ.get("REQUEST_METHOD", "GET")
        # PEP 3333: PATH_INFO is bytes as latin-1; show it as the client sent it (UTF-8)
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace") or "/"
        query = environ.get("QUERY_STRING", "")
        status, body, content_type, headers = route(method, path, query)
        endpoint = path if path in _ENDPOINTS else "other"
        if endpoint == "/verify" and "nonce" in {n for n, _ in parse_qsl(query, True)}:
            endpoint = "/verify?nonce"
        metrics.request_latency.labels(endpoint=endpoint).observe(time.perf_counter() - started)
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body))), *headers]
        start_response(f"{status} {_REASONS.get(status, 'OK')}", headers)
        return [b"" if method == "HEAD" else body]

    return app
