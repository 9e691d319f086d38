"""One attestation attempt and its result, kept in memory for /verify."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from akash_snp.attestation.outcome import Outcome

VERIFIED = "verified"
FAILED = "failed"
UNAVAILABLE = "unavailable"
PENDING = "pending"


@dataclass(frozen=True)
class Attestation:
    """What happened when we last asked: status, when, which provider, and the evidence."""

    status: str
    at: datetime
    provider: str
    detail: str
    """Verification output, or the reason no verification happened."""
    report: bytes | None = None
    outcome: Outcome | None = None
    binding: str = ""
    """How REPORT_DATA was derived (periodic time stamp, or the caller's nonce)."""


class LastResult:
    """The most recent periodic attestation; ``None`` until the first attempt finishes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: Attestation | None = None

    def get(self) -> Attestation | None:
        with self._lock:
            return self._value

    def set(self, value: Attestation) -> None:
        with self._lock:
            self._value = value
