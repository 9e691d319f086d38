"""The webhook's WSGI application: ``POST /mutate``, ``/healthz``, ``/readyz``, ``/metrics``.

``/mutate`` reads the body (bounded), hands it to ``review.review`` and records the outcome; it
never lets an exception become a 5xx: whatever happens, the API server gets a well-formed
AdmissionReview. TLS and the process model belong to ``server.py``.

Plain WSGI rather than Flask (as the sidecar): four fixed routes need no framework, and Flask's
request dispatch cost about 90 us of the webhook's ~0.5 ms per admission, which is latency tail
at 500 admissions/s (``benchmarks/webhook/README.md``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST

from akash_snp.serving.wsgi_app import StartResponse, WsgiApp, shown_path
from akash_snp.webhook.config import ConfigSource
from akash_snp.webhook.metrics import Metrics
from akash_snp.webhook.review import Outcome, error_outcome, review

_LOG = logging.getLogger("akash_snp.webhook.admission")

# The API server caps request bodies at 3 MiB; anything larger is not a genuine AdmissionReview.
MAX_BODY_BYTES = 4 * 1024 * 1024

_JSON = "application/json"
_TEXT = "text/plain; charset=utf-8"
_STATUS = {200: "200 OK", 404: "404 Not Found", 405: "405 Method Not Allowed"}

Reply = tuple[int, bytes, str]
"""(status, body, content type)."""


def _read_body(environ: dict[str, Any], limit: int) -> bytes | None:
    """The request body, or None when it is larger than ``limit`` bytes.

    The server has already buffered the whole body (up to its own, larger limit), so nothing is
    left on the connection to drain.
    """
    body: bytes = environ["wsgi.input"].read(limit + 1)
    return body if len(body) <= limit else None


def create_app(
    source: ConfigSource, metrics: Metrics | None = None, max_body: int = MAX_BODY_BYTES
) -> WsgiApp:
    """Build the application around a config source and a metrics set."""
    stats = metrics if metrics is not None else Metrics()

    def mutate(environ: dict[str, Any]) -> Reply:
        started = time.perf_counter()
        config = source.current()
        try:
            body = _read_body(environ, max_body)
            if body is None:
                message = f"request body larger than {max_body} bytes"
                outcome = error_outcome(message, config, code=413)
            else:
                outcome = review(body, config)
        except Exception as exc:  # the last line of defence: log it, answer with a review
            _LOG.exception("unexpected error in /mutate")
            outcome = error_outcome(f"internal error ({type(exc).__name__})", config, code=500)
        elapsed = time.perf_counter() - started
        stats.record(outcome.result, outcome.reason, elapsed)
        _log(outcome, elapsed)
        return 200, json.dumps(outcome.review, separators=(",", ":")).encode(), _JSON

    def healthz(_: dict[str, Any]) -> Reply:
        return 200, b"ok\n", _TEXT

    def readyz(_: dict[str, Any]) -> Reply:
        source.current()
        return 200, b"ready\n", _TEXT

    def metrics_view(_: dict[str, Any]) -> Reply:
        return 200, stats.exposition(), CONTENT_TYPE_LATEST

    routes: dict[str, tuple[frozenset[str], Callable[[dict[str, Any]], Reply]]] = {
        "/mutate": (frozenset({"POST"}), mutate),
        "/healthz": (frozenset({"GET", "HEAD"}), healthz),
        "/readyz": (frozenset({"GET", "HEAD"}), readyz),
        "/metrics": (frozenset({"GET", "HEAD"}), metrics_view),
    }

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        route = routes.get(path)
        headers: list[tuple[str, str]] = []
        if route is None:
            reply: Reply = 404, f"no such endpoint: {shown_path(path)}\n".encode(), _TEXT
        elif method not in route[0]:
            reply = 405, f"method {method[:16]} not allowed\n".encode(), _TEXT
            headers.append(("Allow", ", ".join(sorted(route[0]))))
        else:
            reply = route[1](environ)
        status, body, content_type = reply
        headers += [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        start_response(_STATUS[status], headers)
        return [b"" if method == "HEAD" else body]

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
