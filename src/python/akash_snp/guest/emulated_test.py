"""The emulated provider's reports verify with the library against the emulated root only."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from cryptography import x509

from akash_snp.attest.errors import ChainError
from akash_snp.attest.verify import verify_attestation
from akash_snp.guest.emulated import EMULATED_MEASUREMENT, EmulatedProvider
from akash_snp.guest.select import ProviderConfig, open_provider

AT = datetime(2026, 6, 1, tzinfo=timezone.utc)
DATA = bytes(range(64))


def test_emulated_reports_verify_with_the_emulated_root_only(emulated_pki_dir: Path) -> None:
    provider = open_provider(ProviderConfig(kind="emulated", emulated_pki_dir=emulated_pki_dir))
    assert isinstance(provider, EmulatedProvider)
    got = provider.get_report(DATA)
    assert got.report[0x50:0x90] == DATA
    assert got.report[0x90:0xC0] == EMULATED_MEASUREMENT
    root = x509.load_pem_x509_certificate((emulated_pki_dir / "ark.pem").read_bytes())
    trusted = verify_attestation(
        got.report, certificates=[got.cert_table], at=AT, extra_roots=[root]
    )
    assert trusted.genuine, trusted.summary()
    untrusted = verify_attestation(got.report, certificates=[got.cert_table], at=AT)
    assert not untrusted.genuine
    assert untrusted.first_failure is not None
    assert untrusted.first_failure.name == "ark_trusted"


def test_pki_directory_is_reused(emulated_pki_dir: Path) -> None:
    EmulatedProvider.from_directory(emulated_pki_dir)
    before = {p.name: p.read_bytes() for p in emulated_pki_dir.iterdir()}
    provider = EmulatedProvider.from_directory(emulated_pki_dir)
    assert {p.name: p.read_bytes() for p in emulated_pki_dir.iterdir()} == before
    assert "ark.pem" in before
    assert provider.get_report(DATA).report[0x30:0x34] == b"\0\0\0\0"


def test_without_a_certificate_table_the_verifier_needs_kds(emulated_pki_dir: Path) -> None:
    """cert_table="none" answers like a host that attaches nothing: the report verifies once the
    VCEK and its chain come from elsewhere (what KDS serves; here the emulated PKI's files)."""
    provider = EmulatedProvider.from_directory(emulated_pki_dir, cert_table="none")
    full = EmulatedProvider.from_directory(emulated_pki_dir).get_report(DATA)
    got = provider.get_report(DATA)
    assert got.cert_table == b""
    root = x509.load_pem_x509_certificate((emulated_pki_dir / "ark.pem").read_bytes())
    with pytest.raises(ChainError, match="no VCEK certificate for Genoa supplied"):
        verify_attestation(got.report, at=AT, extra_roots=[root])
    supplied = verify_attestation(
        got.report, certificates=[full.cert_table], at=AT, extra_roots=[root]
    )
    assert supplied.genuine, supplied.summary()
