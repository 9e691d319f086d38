"""What the sidecar keeps from one verification, independent of how the library shapes it.

The sidecar talks to the verification library through ``Verifier`` only, so the HTTP layer and
the loop can be tested without certificates, and the library can evolve behind one adapter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class Outcome:
    """The verdict on one report plus the certificates that endorsed it."""

    genuine: bool
    output: str
    """Human-readable check list (one line per check)."""
    checks: list[dict[str, Any]] = field(default_factory=list)
    product: str | None = None
    signing_key: str | None = None
    """``"VCEK"`` or ``"VLEK"`` when known."""
    report_fields: dict[str, Any] | None = None
    chain_pem: bytes = b""
    """ASK or ASVK, then ARK, PEM-encoded: what ``cert_chain`` shows."""
    endorsement_der: bytes | None = None
    """The VCEK or VLEK certificate, DER."""
    evidence: dict[str, dict[str, str]] | None = None
    """The verdict's evidence: each certificate's role, subject, SHA-256 and source."""


class Verifier(Protocol):
    """Verify a raw report with the raw extended-report certificate table the host attached
    (and, for a nonce-bound report, the nonce REPORT_DATA must commit to)."""

    def verify(
        self, report: bytes, cert_table: bytes, at: datetime, nonce: bytes | None = None
    ) -> Outcome: ...
