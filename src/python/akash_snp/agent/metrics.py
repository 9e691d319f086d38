"""Prometheus metrics of the agent, on one registry: the agent's own counters plus the sidecar's
attestation metrics for the agent's periodic attestation of its node."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from akash_snp.attestation.metrics import AttestationMetrics


class AgentMetrics:
    """Reports served, refusals, firmware errors, KDS upstream requests and cache hits."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.attestation = AttestationMetrics(self.registry)
        self.reports_served = Counter(
            "sev_agent_reports_served",
            "Nonce-bound reports handed out at /v1/report.",
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "sev_agent_rate_limited_requests",
            "/v1/report requests refused with HTTP 429 (node firmware budget exhausted).",
            registry=self.registry,
        )
        self.firmware_errors = Counter(
            "sev_agent_firmware_errors",
            "/v1/report requests the guest firmware or interface failed (HTTP 502/500).",
            registry=self.registry,
        )
        self.unavailable = Counter(
            "sev_agent_unavailable_requests",
            "/v1/report requests answered 503: no guest interface on this node.",
            registry=self.registry,
        )
        self.kds_upstream_requests = Counter(
            "sev_agent_kds_upstream_requests",
            "HTTP requests the KDS proxy sent upstream (retries included).",
            registry=self.registry,
        )
        self.kds_cache_hits = Counter(
            "sev_agent_kds_cache_hits",
            "KDS proxy answers served from its cache or joined to an identical request in flight.",
            registry=self.registry,
        )
