"""Prometheus metrics of the injector: requests, injections, skips by reason, errors, latency.

The server is one process, so each ``Metrics`` keeps its values in a registry of its own.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class Metrics:
    """The injector's counters and histogram, registered in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "sev_webhook_admission_requests",
            "AdmissionReview requests answered, by result (injected, skipped, error).",
            ["result"],
            registry=self.registry,
        )
        self.injections = Counter(
            "sev_webhook_injections", "Pods the sidecar was injected into.", registry=self.registry
        )
        self.skips = Counter(
            "sev_webhook_skips",
            "Pods left unchanged, by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.errors = Counter(
            "sev_webhook_errors",
            "Requests the webhook could not decide (malformed or internal error).",
            registry=self.registry,
        )
        self.latency = Histogram(
            "sev_webhook_admission_duration_seconds",
            "Time to answer one AdmissionReview, from body read to response built.",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )

    def record(self, result: str, reason: str, seconds: float) -> None:
        """Count one answered request."""
        self.requests.labels(result=result).inc()
        if result == "injected":
            self.injections.inc()
        elif result == "skipped":
            self.skips.labels(reason=reason).inc()
        else:
            self.errors.inc()
        self.latency.observe(seconds)

    def exposition(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)
