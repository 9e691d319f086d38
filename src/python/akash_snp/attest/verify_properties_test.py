"""Tampering properties: any change to the signed bytes or the signature rejects the report."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from cryptography import x509
from hypothesis import given, settings
from hypothesis import strategies as st

from akash_snp.attest.constants import Product
from akash_snp.emulation.pki import EmulatedAmd, SignedReport

AT = datetime(2025, 6, 1, tzinfo=timezone.utc)
PROPERTY = settings(max_examples=200, deadline=None)


@pytest.fixture(scope="module")
def signed(emulated_genoa_pki: EmulatedAmd) -> SignedReport:
    return emulated_genoa_pki.attest(bytes(range(64)), version=5)


@pytest.fixture(scope="module")
def root(emulated_genoa_pki: EmulatedAmd) -> x509.Certificate:
    return emulated_genoa_pki.ark_certificate()


def _verdict_ok(report: bytes, signed: SignedReport, root: x509.Certificate) -> bool:
    from akash_snp.attest.verify import verify_attestation

    verdict = verify_attestation(
        report, certificates=[signed.cert_table], at=AT, extra_roots=[root]
    )
    return verdict.genuine


def test_untouched_report_is_genuine(signed: SignedReport, root: x509.Certificate) -> None:
    assert _verdict_ok(signed.report, signed, root)


@PROPERTY
@given(offset=st.integers(0, 0x29F), bit=st.integers(0, 7))
def test_flipping_any_signed_bit_rejects(
    signed: SignedReport, root: x509.Certificate, offset: int, bit: int
) -> None:
    tampered = bytearray(signed.report)
    tampered[offset] ^= 1 << bit
    assert not _verdict_ok(bytes(tampered), signed, root)


@PROPERTY
@given(offset=st.integers(0x2A0, 0x2A0 + 143), value=st.integers(1, 255))
def test_changing_any_byte_of_r_or_s_rejects(
    signed: SignedReport, root: x509.Certificate, offset: int, value: int
) -> None:
    tampered = bytearray(signed.report)
    tampered[offset] ^= value
    assert not _verdict_ok(bytes(tampered), signed, root)


def test_every_product_and_version_verifies(
    emulated_pkis: dict[Product, EmulatedAmd], emulated_roots: list[x509.Certificate]
) -> None:
    from akash_snp.attest.verify import verify_attestation

    for product, pki in emulated_pkis.items():
        for version in (2, 3, 4, 5):
            for key in ("VCEK", "VLEK"):
                s = pki.attest(version=version, signing_key=key)
                verdict = verify_attestation(
                    s.report,
                    certificates=[s.cert_table],
                    at=AT,
                    extra_roots=emulated_roots,
                    product=product if version == 2 else None,
                )
                assert verdict.genuine, (product, version, key, verdict.summary())
                assert verdict.product == product.value
                assert verdict.signing_key == key


def test_unknown_cpuid_rejects_instead_of_raising(
    signed: SignedReport, root: x509.Certificate
) -> None:
    from akash_snp.attest.verify import verify_attestation

    tampered = bytearray(signed.report)
    tampered[0x188] = 0x17  # CPUID family 0x17 (Zen 2): not an SEV-SNP product
    verdict = verify_attestation(
        bytes(tampered), certificates=[signed.cert_table], at=AT, extra_roots=[root]
    )
    assert verdict.check("product").ok is False
    assert "family 0x17" in verdict.check("product").detail
    assert not verdict.check("report_signature").ok


@settings(max_examples=100, deadline=None)
@given(report=st.binary(min_size=1184, max_size=1184))
def test_arbitrary_report_bytes_give_a_rejected_verdict_or_a_library_error(
    signed: SignedReport, root: x509.Certificate, report: bytes
) -> None:
    from akash_snp.attest.errors import AttestError
    from akash_snp.attest.verify import verify_attestation

    try:
        verdict = verify_attestation(
            report, certificates=[signed.cert_table], at=AT, extra_roots=[root]
        )
    except AttestError:
        return
    assert not verdict.genuine


@settings(max_examples=100, deadline=None)
@given(blob=st.binary(max_size=3000))
def test_arbitrary_certificate_input_raises_only_library_errors(
    signed: SignedReport, blob: bytes
) -> None:
    from akash_snp.attest.errors import AttestError
    from akash_snp.attest.verify import verify_attestation

    with pytest.raises(AttestError):
        verify_attestation(signed.report, certificates=[blob], at=AT)
