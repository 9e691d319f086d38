"""Choosing a provider from configuration: ``auto`` tries configfs-tsm, then /dev/sev-guest, and
otherwise yields a provider that always says ``unavailable`` with the reason, so a pod on a node
without SNP still runs and reports that fact. ``emulated`` is used only when asked for by name.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from akash_snp.attest.errors import AttestError
from akash_snp.guest.configfs_tsm import DEFAULT_REPORT_ROOT, ConfigfsTsmProvider
from akash_snp.guest.guard import GuardedProvider, TokenBucket
from akash_snp.guest.provider import GuestReport, ProviderUnavailable, ReportProvider
from akash_snp.guest.sev_guest_ioctl import DEFAULT_DEVICE, SevGuestIoctlProvider

_log = logging.getLogger(__name__)

PROVIDER_CHOICES = ("auto", "configfs-tsm", "ioctl", "emulated")

CertTableChoice = Literal["full", "none"]
"""What the emulated provider attaches: VCEK, ASK and ARK, or nothing (the verifier uses KDS)."""
CERT_TABLE_CHOICES: tuple[CertTableChoice, ...] = ("full", "none")


@dataclass(frozen=True)
class ProviderConfig:
    """Where each interface lives; the defaults are the kernel's paths."""

    kind: str = "auto"
    configfs_root: Path = DEFAULT_REPORT_ROOT
    device: Path = DEFAULT_DEVICE
    emulated_pki_dir: Path | None = None
    emulated_product: str = "Genoa"
    emulated_cert_table: CertTableChoice = "full"


class UnavailableProvider:
    """No guest interface: every request fails with the reason found at start-up."""

    name = "unavailable"

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def get_report(self, report_data: bytes) -> GuestReport:
        raise ProviderUnavailable(self.reason)


def open_guarded(config: ProviderConfig, rate: float, burst: int) -> GuardedProvider:
    """The configured interface behind one lock and a token bucket (``rate`` reports per second,
    ``burst``). A provider that fails to start becomes an ``UnavailableProvider`` with the
    reason: the service still runs and says why it cannot attest."""
    try:
        provider = open_provider(config)
    except (ValueError, OSError, AttestError) as error:  # e.g. an unknown emulated product
        _log.error("cannot set up the %s provider: %s", config.kind, error)
        provider = UnavailableProvider(f"the {config.kind} provider failed to start: {error}")
    return GuardedProvider(provider, TokenBucket(rate, burst))


def open_provider(config: ProviderConfig) -> ReportProvider:
    """Build the provider ``config`` names; never raises for a missing interface."""
    if config.kind == "configfs-tsm":
        return ConfigfsTsmProvider(config.configfs_root)
    if config.kind == "ioctl":
        return SevGuestIoctlProvider(config.device)
    if config.kind == "emulated":
        if config.emulated_pki_dir is None:
            raise ValueError("the emulated provider needs an emulated PKI directory")
        from akash_snp.guest.emulated import EmulatedProvider

        return EmulatedProvider.from_directory(
            config.emulated_pki_dir, config.emulated_product, config.emulated_cert_table
        )
    if config.kind != "auto":
        raise ValueError(f"unknown provider {config.kind!r}; expected one of {PROVIDER_CHOICES}")
    reasons = []
    for candidate in (
        ConfigfsTsmProvider(config.configfs_root),
        SevGuestIoctlProvider(config.device),
    ):
        try:
            candidate.check_available()
        except ProviderUnavailable as reason:
            reasons.append(str(reason))
            continue
        return candidate
    return UnavailableProvider("no SEV-SNP guest interface: " + "; ".join(reasons))
