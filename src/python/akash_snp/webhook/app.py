"""The webhook's Flask application: ``POST /mutate``, ``/healthz``, ``/readyz``, ``/metrics``.

The view reads the body (bounded), hands it to ``review.review`` and records the outcome; it never
lets an exception become a 5xx: whatever happens, the API server gets a well-formed AdmissionReview.
TLS and the process model belong to ``server.py``.
"""

from __future__ import annotations

import json
import logging
import time

from flask import Flask, Response, request

from akash_snp.webhook.config import ConfigSource
from akash_snp.webhook.metrics import Metrics
from akash_snp.webhook.review import Outcome, error_outcome, review

_LOG = logging.getLogger("akash_snp.webhook.admission")

# The API server caps request bodies at 3 MiB; anything larger is not a genuine AdmissionReview.
MAX_BODY_BYTES = 4 * 1024 * 1024


def _read_body(limit: int) -> bytes | None:
    """The request body, or None when it is larger than ``limit`` bytes.

    The server has already buffered the whole body (up to its own, larger limit), so nothing is
    left on the connection to drain.
    """
    body = request.stream.read(limit + 1)
    return body if len(body) <= limit else None


def create_app(
    source: ConfigSource, metrics: Metrics | None = None, max_body: int = MAX_BODY_BYTES
) -> Flask:
    """Build the application around a config source and a metrics set."""
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    stats = metrics if metrics is not None else Metrics()

    @app.post("/mutate")
    def mutate() -> Response:
        started = time.perf_counter()
        config = source.current()
        try:
            body = _read_body(max_body)
            if body is None:
                outcome = error_outcome(
                    f"request body larger than {max_body} bytes", config, code=413
                )
            else:
                outcome = review(body, config)
        except Exception as exc:  # the last line of defence: log it, answer with a review
            _LOG.exception("unexpected error in /mutate")
            outcome = error_outcome(f"internal error ({type(exc).__name__})", config, code=500)
        elapsed = time.perf_counter() - started
        stats.record(outcome.result, outcome.reason, elapsed)
        _log(outcome, elapsed)
        payload = json.dumps(outcome.review, separators=(",", ":"))
        return Response(payload, status=200, mimetype="application/json")

    @app.get("/healthz")
    def healthz() -> Response:
        return Response("ok\n", mimetype="text/plain")

    @app.get("/readyz")
    def readyz() -> Response:
        source.current()
        return Response("ready\n", mimetype="text/plain")

    @app.get("/metrics")
    def metrics_view() -> Response:
        return Response(stats.exposition(), mimetype="text/plain; version=0.0.4; charset=utf-8")

    return app


def _log(outcome: Outcome, elapsed: float) -> None:
    level = logging.WARNING if outcome.result == "error" else logging.INFO
    _LOG.log(
        level,
        "admission %s",
        outcome.result,
        extra={
            "uid": outcome.uid,
            "namespace": outcome.namespace,
            "pod": outcome.pod,
            "result": outcome.result,
            "reason": outcome.reason,
            "duration_ms": round(elapsed * 1000, 3),
        },
    )
