"""The provider interface shared by every guest interface, and the errors they raise.

A provider turns 64 bytes of REPORT_DATA into the firmware's raw report and the raw certificate
table the host attached (empty when none). It never parses or verifies what it returns.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

REPORT_DATA_SIZE = 64
"""REPORT_DATA is 64 bytes (ABI spec, MSG_REPORT_REQ / ATTESTATION_REPORT offset 0x50)."""

REQUESTED_VMPL = 0
"""Every provider asks for VMPL 0 explicitly rather than trusting a kernel default (configfs-tsm
``privlevel``; ``vmpl`` of ``struct snp_report_req`` in include/uapi/linux/sev-guest.h)."""


class GuestError(Exception):
    """Obtaining a report failed; the message says which interface and why."""


class ProviderUnavailable(GuestError):
    """No usable guest interface exists here (not an SNP guest, old kernel, device not mounted)."""


class FirmwareBusy(GuestError):
    """The host kept answering busy until our retry deadline passed."""


def busy_pauses(deadline: float, first: float) -> Iterator[float]:
    """Pauses between retries of a request the host answered busy: doubling from ``first``,
    at most 2 s each, until they add up to ``deadline``; then the caller gives up."""
    waited = 0.0
    pause = first
    while waited < deadline:
        yield pause
        waited += pause
        pause = min(pause * 2, 2.0)


class RateLimited(GuestError):
    """A caller asked for a report sooner than the rate limit allows."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"report requests are rate-limited; retry in {retry_after:.1f} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class GuestReport:
    """What the firmware returned: the raw report and the raw extended-report certificate table."""

    report: bytes
    cert_table: bytes
    provider: str


class ReportProvider(Protocol):
    """Anything that can ask a firmware for a report over caller-chosen REPORT_DATA."""

    @property
    def name(self) -> str:
        """Short interface name shown in logs and in /verify (``configfs-tsm``, ``ioctl``...)."""
        ...

    def get_report(self, report_data: bytes) -> GuestReport:
        """Return a report over exactly 64 bytes of ``report_data`` at VMPL 0."""
        ...


def check_report_data(report_data: bytes) -> bytes:
    """Return ``report_data`` if it is exactly 64 bytes, else raise ``ValueError``."""
    if len(report_data) != REPORT_DATA_SIZE:
        raise ValueError(
            f"REPORT_DATA must be exactly {REPORT_DATA_SIZE} bytes, got {len(report_data)}"
        )
    return bytes(report_data)
