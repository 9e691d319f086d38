"""Prometheus metrics of the sidecar, on a registry of its own (no process-global state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class AttestationMetrics:
    """Attestations by kind and outcome, last success time, request latency, refusals."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        """``registry``: share one with other metrics (the node agent's); default a new one."""
        self.registry = registry or CollectorRegistry()
        self.attestations = Counter(
            "sev_attestation_attestations",
            "Attestation attempts by kind (periodic, nonce) and outcome (status).",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.last_success = Gauge(
            "sev_attestation_last_success_timestamp_seconds",
            "Unix time of the last attestation that verified.",
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "sev_attestation_rate_limited_requests",
            "Fresh-report requests refused with HTTP 429.",
            registry=self.registry,
        )
        self.request_latency = Histogram(
            "sev_attestation_http_request_duration_seconds",
            "HTTP request latency by endpoint.",
            ["endpoint"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
