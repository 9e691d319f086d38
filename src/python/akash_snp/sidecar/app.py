"""The sidecar's Flask application: /verify, /verify?nonce=, /healthz, /readyz, /metrics.

Handlers only translate HTTP to a ``Backend`` and back: the local one attests and verifies in this
process (``sidecar.local``), the relay asks the node agent (``sidecar.relay``). Nothing here talks
to the firmware or verifies, so the relay's process never imports the verifier.
"""

from __future__ import annotations

import math
import time
from typing import Any, Protocol

from flask import Flask, Response, g, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from akash_snp.guest.nonce import NonceError, parse_nonce_hex
from akash_snp.guest.provider import RateLimited
from akash_snp.sidecar.metrics import SidecarMetrics

_ENDPOINTS = frozenset({"/verify", "/healthz", "/readyz", "/metrics"})
# Query parameters each endpoint understands; any other is refused, so that a misspelling
# (``?NONCE=``, ``?nonce[]=``) is not silently answered with the cached, nonce-less report.
_PARAMETERS = {"/verify": frozenset({"nonce"})}
_ECHOED_PATH_CHARS = 64


def _shown(path: str) -> str:
    """A request path short enough to echo in an error message."""
    if len(path) <= _ECHOED_PATH_CHARS:
        return path
    return f"{path[:_ECHOED_PATH_CHARS]}... ({len(path)} characters)"


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


def _error(status: int, message: str, **extra: Any) -> Response:
    response = jsonify({"error": message, **extra})
    response.status_code = status
    return response


def create_app(backend: Backend, metrics: SidecarMetrics) -> Flask:
    """Build the app around a backend."""
    app = Flask("akash_snp.sidecar")
    app.json.sort_keys = False  # type: ignore[attr-defined]

    @app.before_request
    def _start_timer() -> Response | None:
        g.started = time.perf_counter()
        unknown = set(request.args) - _PARAMETERS.get(request.path, frozenset())
        if unknown:
            names = ", ".join(sorted(repr(name[:40]) for name in unknown)[:5])
            return _error(400, f"unknown query parameter(s): {names}")
        return None

    @app.after_request
    def _observe(response: Response) -> Response:
        endpoint = request.path if request.path in _ENDPOINTS else "other"
        if endpoint == "/verify" and "nonce" in request.args:
            endpoint = "/verify?nonce"
        metrics.request_latency.labels(endpoint=endpoint).observe(time.perf_counter() - g.started)
        return response

    @app.get("/verify")
    def verify() -> Response:
        nonces = request.args.getlist("nonce")
        if not nonces:
            return Response(backend.periodic_body(), mimetype="application/json")
        if len(nonces) > 1:
            return _error(400, "give exactly one nonce parameter")
        try:
            nonce = parse_nonce_hex(nonces[0])
        except NonceError as error:
            return _error(400, str(error))
        try:
            body = backend.fresh_body(nonce)
        except RateLimited as refused:
            metrics.rate_limited.inc()
            response = _error(429, str(refused), retry_after_seconds=refused.retry_after)
            response.headers["Retry-After"] = str(max(1, math.ceil(refused.retry_after)))
            return response
        return Response(body, mimetype="application/json")

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify({"status": "ok"})

    @app.get("/readyz")
    def readyz() -> Response:
        # Ready even when SNP is unavailable: a sidecar that never becomes ready takes the
        # tenant's lease down (FACTS 6); /verify says "unavailable" instead.
        return jsonify({"status": "ready", "attestation_status": backend.attestation_status()})

    @app.get("/metrics")
    def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), content_type=CONTENT_TYPE_LATEST)

    @app.errorhandler(404)
    def not_found(_: Exception) -> Response:
        return _error(404, f"no such endpoint: {_shown(request.path)}")

    @app.errorhandler(405)
    def wrong_method(_: Exception) -> Response:
        return _error(405, f"method {request.method[:16]} not allowed on {_shown(request.path)}")

    return app
