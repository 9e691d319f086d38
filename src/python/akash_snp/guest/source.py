"""Where the sidecar's reports come from, expressed in terms of what a report must commit to
(a verifier's nonce, or the periodic time stamp) rather than raw REPORT_DATA.

Local providers (configfs-tsm, ioctl, emulated) derive REPORT_DATA themselves with ``nonce``'s
functions; the node agent's client sends only the nonce, because the agent never lets a caller
choose raw REPORT_DATA. Both look the same to the sidecar through ``ReportSource``.
"""

from __future__ import annotations

from typing import Protocol

from akash_snp.attest.nonce import (
    periodic_binding,
    report_data_for_nonce,
    report_data_for_periodic,
)
from akash_snp.guest.guard import GuardedProvider
from akash_snp.guest.provider import GuestReport


class ReportSource(Protocol):
    """Obtains reports bound to a nonce or to the periodic time stamp."""

    @property
    def name(self) -> str:
        """Shown in logs and in /verify (``configfs-tsm``, ``ioctl``, ``emulated``, ``agent``)."""
        ...

    def nonce_report(self, nonce: bytes, wait: bool) -> GuestReport:
        """A report whose REPORT_DATA is ``report_data_for_nonce(nonce)``; without ``wait``,
        raise ``RateLimited`` instead of waiting for the rate limiter."""
        ...

    def periodic_report(self, stamp: str, wait: bool) -> tuple[GuestReport, str]:
        """A report for the periodic attestation at RFC 3339 ``stamp``, and how its REPORT_DATA
        was derived (shown as /verify's ``report_data_binding``)."""
        ...


class LocalSource:
    """A guest interface of this VM, behind its lock and token bucket."""

    def __init__(self, provider: GuardedProvider) -> None:
        self._provider = provider

    @property
    def name(self) -> str:
        return self._provider.name

    def nonce_report(self, nonce: bytes, wait: bool) -> GuestReport:
        return self._provider.get_report(report_data_for_nonce(nonce), wait=wait)

    def periodic_report(self, stamp: str, wait: bool) -> tuple[GuestReport, str]:
        got = self._provider.get_report(report_data_for_periodic(stamp), wait=wait)
        return got, f"periodic: {periodic_binding(stamp)}"
