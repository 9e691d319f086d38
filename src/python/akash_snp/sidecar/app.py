"""The sidecar's Flask application: /verify, /verify?nonce=, /healthz, /readyz, /metrics.

Handlers only translate HTTP to ``Attestor``/``LastResult`` calls and back; nothing here talks to
the firmware directly.
"""

from __future__ import annotations

import math
import time
from typing import Any

from flask import Flask, Response, g, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from akash_snp.guest.nonce import NonceError, parse_nonce_hex
from akash_snp.guest.provider import RateLimited
from akash_snp.sidecar.attestor import Attestor
from akash_snp.sidecar.metrics import SidecarMetrics
from akash_snp.sidecar.state import LastResult
from akash_snp.sidecar.views import attestation_json

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


def _error(status: int, message: str, **extra: Any) -> Response:
    response = jsonify({"error": message, **extra})
    response.status_code = status
    return response


def create_app(attestor: Attestor, last: LastResult, metrics: SidecarMetrics) -> Flask:
    """Build the app around an attestor (fresh reports) and the periodic loop's last result."""
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

    cached: list[tuple[object, bytes]] = []  # (the last result, its /verify body)

    def periodic_body() -> bytes:
        """The /verify body of the last periodic result, encoded once per result (every 300 s)
        instead of once per request: it is about 16 KB of JSON."""
        result = last.get()
        if not cached or cached[0][0] is not result:
            body = attestation_json(result, attestor.provider_name)
            cached[:] = [(result, app.json.dumps(body).encode() + b"\n")]
        return cached[0][1]

    @app.get("/verify")
    def verify() -> Response:
        nonces = request.args.getlist("nonce")
        if not nonces:
            return Response(periodic_body(), mimetype="application/json")
        if len(nonces) > 1:
            return _error(400, "give exactly one nonce parameter")
        try:
            nonce = parse_nonce_hex(nonces[0])
        except NonceError as error:
            return _error(400, str(error))
        try:
            result = attestor.attest_nonce(nonce)
        except RateLimited as refused:
            metrics.rate_limited.inc()
            response = _error(429, str(refused), retry_after_seconds=refused.retry_after)
            response.headers["Retry-After"] = str(max(1, math.ceil(refused.retry_after)))
            return response
        body = attestation_json(result, attestor.provider_name)
        body["nonce"] = nonce.hex()
        return jsonify(body)

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify({"status": "ok"})

    @app.get("/readyz")
    def readyz() -> Response:
        # Ready even when SNP is unavailable: a sidecar that never becomes ready takes the
        # tenant's lease down (FACTS 6); /verify says "unavailable" instead.
        result = last.get()
        status = result.status if result else "pending"
        return jsonify({"status": "ready", "attestation_status": status})

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
