"""The agent's Flask application: /v1/verify, /v1/report, /kds/..., /v1/status, /healthz,
/readyz, /metrics.

``/v1/verify`` and ``/v1/report`` take a nonce and nothing else: REPORT_DATA is always the
documented hash of the nonce (``guest.nonce.report_data_for_nonce``), so no caller on the node can
have the firmware sign REPORT_DATA of its choosing (for example, data that another protocol would
accept). ``/v1/verify`` also verifies the report here, once per node, and answers with the body
of the sidecar's ``/verify?nonce=``: the sidecars in agent mode only relay it, so no tenant pod
pays for the verifier's memory (cryptography, the KDS client).
"""

from __future__ import annotations

import base64
import math
from typing import Any

from flask import Flask, Response, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from akash_snp.agent.kds_paths import KdsPathError, parse_kds_request
from akash_snp.agent.kds_proxy import CONTENT_TYPES, KdsProxy
from akash_snp.agent.metrics import AgentMetrics
from akash_snp.attest.errors import KdsError, KdsRefusedError
from akash_snp.attest.nonce import NonceError, parse_nonce_hex, report_data_for_nonce
from akash_snp.attestation.attestor import Attestor
from akash_snp.attestation.state import UNAVAILABLE, LastResult
from akash_snp.attestation.views import attestation_json
from akash_snp.guest.guard import GuardedProvider
from akash_snp.guest.provider import GuestError, ProviderUnavailable, RateLimited


def _error(status: int, message: str, **extra: Any) -> Response:
    response = jsonify({"error": " ".join(message.split()), **extra})
    response.status_code = status
    return response


def _nonce() -> bytes | Response:
    """The request's one ``nonce`` parameter, or the 400 answer saying what is wrong."""
    if set(request.args) != {"nonce"}:
        return _error(400, "give exactly one parameter: nonce=<hex, 1..64 bytes>")
    nonces = request.args.getlist("nonce")
    if len(nonces) != 1:
        return _error(400, "give exactly one nonce parameter")
    try:
        return parse_nonce_hex(nonces[0])
    except NonceError as error:
        return _error(400, str(error))


def create_app(
    provider: GuardedProvider,
    kds: KdsProxy,
    attestor: Attestor,
    last: LastResult,
    metrics: AgentMetrics,
) -> Flask:
    """Build the app around the node's guarded provider, the KDS proxy, the node's attestor
    (over that provider) and the node's own last attestation."""
    app = Flask("akash_snp.agent")
    app.json.sort_keys = False  # type: ignore[attr-defined]

    def rate_limited(refused: RateLimited) -> Response:
        metrics.rate_limited.inc()
        response = _error(429, str(refused), retry_after_seconds=refused.retry_after)
        response.headers["Retry-After"] = str(max(1, math.ceil(refused.retry_after)))
        return response

    @app.get("/v1/verify")
    def verify() -> Response:
        nonce = _nonce()
        if isinstance(nonce, Response):
            return nonce
        try:
            result = attestor.attest_nonce(nonce)
        except RateLimited as refused:
            return rate_limited(refused)
        body = attestation_json(result, provider.name)
        body["nonce"] = nonce.hex()
        if result.status != UNAVAILABLE:
            return jsonify(body)
        metrics.unavailable.inc()  # as /v1/report: 503, and "error" says why
        response = jsonify({**body, "error": result.detail})
        response.status_code = 503
        return response

    @app.get("/v1/report")
    def report() -> Response:
        nonce = _nonce()
        if isinstance(nonce, Response):
            return nonce
        try:
            got = provider.get_report(report_data_for_nonce(nonce), wait=False)
        except RateLimited as refused:
            return rate_limited(refused)
        except ProviderUnavailable as reason:
            metrics.unavailable.inc()
            return _error(503, str(reason))
        except GuestError as error:
            metrics.firmware_errors.inc()
            return _error(502, f"the guest firmware failed: {error}")
        except Exception as error:  # a provider bug is the agent's fault: 500, one line
            metrics.firmware_errors.inc()
            app.logger.exception("the provider raised")
            return _error(500, f"the agent failed: {error!r}")
        metrics.reports_served.inc()
        return jsonify(
            {
                "report": base64.b64encode(got.report).decode("ascii"),
                "cert_table": base64.b64encode(got.cert_table).decode("ascii"),
                "provider": got.provider,
            }
        )

    @app.get("/kds/<path:_rest>")
    def kds_proxy(_rest: str) -> Response:
        path = request.path.removeprefix("/kds")
        try:
            wanted = parse_kds_request(path, request.query_string.decode("latin-1"))
        except KdsPathError as error:
            return _error(404, str(error))
        try:
            body = kds.get(wanted)
        except KdsRefusedError as error:  # e.g. KDS knows no such chip: final, pass it on
            return _error(404 if error.status == 404 else 502, str(error))
        except KdsError as error:
            return _error(502, str(error))
        return Response(body, content_type=CONTENT_TYPES[wanted.what])

    @app.get("/v1/status")
    def status() -> Response:
        return jsonify(attestation_json(last.get(), provider.name))

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify({"status": "ok"})

    @app.get("/readyz")
    def readyz() -> Response:
        # Ready also without SNP: /v1/report says 503 with the reason, which the sidecars show.
        result = last.get()
        return jsonify(
            {"status": "ready", "attestation_status": result.status if result else "pending"}
        )

    @app.get("/metrics")
    def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), content_type=CONTENT_TYPE_LATEST)

    @app.errorhandler(404)
    def not_found(_: Exception) -> Response:
        return _error(404, f"no such endpoint: {request.path}")

    @app.errorhandler(405)
    def wrong_method(_: Exception) -> Response:
        return _error(405, f"method {request.method} not allowed on {request.path}")

    return app
