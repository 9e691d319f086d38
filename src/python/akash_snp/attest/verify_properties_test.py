"""Tampering properties: any change to the signed bytes or the signature rejects the report, and
the verdict names the check that caught it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

import pytest
from cryptography import x509
from hypothesis import example, given, settings
from hypothesis import strategies as st

from akash_snp.attest.constants import REPORT_SIZE, SIGNED_REGION_END, Product
from akash_snp.attest.policy import Policy
from akash_snp.attest.report import Report, parse_report
from akash_snp.attest.verdict import Verdict
from akash_snp.emulation.pki import EmulatedAmd, SignedReport

AT = datetime(2025, 6, 1, tzinfo=timezone.utc)
# 5376 single-bit flips over some thirty fields: more than the profile's 100 examples.
PROPERTY = settings(max_examples=200)

FORMAT = frozenset({"report_format"})
SIGNATURE = frozenset({"report_signature"})
SIGNING_KEY = "signing_key_matches_certificate"
# CPUID_MOD_ID 0x11 (Genoa) with bit 4 flipped names Milan, whose chain was not supplied.
CLAIMS_MILAN = (0x189, 4)  # CPUID model 0x11 -> 0x01: a Milan CPU


def _policy_flip(bit: int) -> frozenset[str]:
    """POLICY (0x08): bit 17 must stay 1 and bits 26-63 are reserved; setting MIGRATE_MA or DEBUG
    also fails the default policy's rule for it."""
    if bit == 17 or bit >= 26:
        return FORMAT
    return SIGNATURE | {18: {"policy.migration_agent"}, 19: {"policy.debug"}}.get(bit, set())


def _signer_info_flip(bit: int) -> frozenset[str]:
    """SIGNER_INFO (0x48) of a VCEK report: SIGNING_KEY is bits 2-4, bits 5-31 are reserved."""
    if bit == 2:  # VCEK (0) -> VLEK (1): checked against the VCEK, the only endorsement given
        return SIGNATURE | {SIGNING_KEY}
    if bit in (3, 4):  # a reserved key (2 or 4): verification stops before the signature
        return frozenset({SIGNING_KEY})
    return FORMAT if bit >= 5 else SIGNATURE


def _cpuid_flip(offset: int, bit: int) -> frozenset[str]:
    """CPUID (0x188-0x18A) of a Genoa report, family 0x19, model 0x11: a family or model no
    product has fails ``product``, and so does model 0x01 (Milan: the chain is then still checked
    for the certified Genoa); models 0x10, 0x13, 0x15 and 0x19 are still Genoa."""
    if offset == 0x188 or (offset == 0x189 and bit >= 4):
        return SIGNATURE | {"product"}
    return SIGNATURE


def _flip_fails(offset: int, bit: int) -> frozenset[str]:
    """The checks failed after flipping ``bit`` of byte ``offset`` of the signed region of a
    version-5 Genoa VCEK report (layout in report.py). The parser refuses reserved or unsupported
    values (``report_format`` is then the only check); any other flip breaks ``report_signature``
    and some fields fail one more named check."""
    if offset < 0x04:  # VERSION 5: only 5 -> 4 is supported (the mitigation vectors are zero)
        return SIGNATURE if (offset, bit) == (0, 0) else FORMAT
    if 0x08 <= offset < 0x10:
        return _policy_flip(8 * (offset - 0x08) + bit)
    if 0x34 <= offset < 0x38:  # SIGNATURE_ALGO must be 1
        return FORMAT
    if 0x48 <= offset < 0x4C:
        return _signer_info_flip(8 * (offset - 0x48) + bit)
    if 0x180 <= offset < 0x188:
        return SIGNATURE | {"reported_tcb_matches_certificate"}
    if 0x188 <= offset < 0x18B:
        return _cpuid_flip(offset, bit)
    if 0x1A0 <= offset < 0x1E0:
        return SIGNATURE | {"chip_id_matches_hwid"}
    reserved = (0x4C, 0x4D, 0x4E, 0x4F, 0x1EB, 0x1EF)
    if offset in reserved or 0x18B <= offset < 0x1A0 or offset >= 0x208:
        return FORMAT
    return SIGNATURE


def _signature_fails(offset: int) -> frozenset[str]:
    """R and S are 72 bytes each, of which a P-384 value uses 48; the rest must be zero."""
    component = (offset - SIGNED_REGION_END) % 72
    return SIGNATURE if component < 48 else FORMAT


@pytest.fixture(scope="module")
def signed(emulated_genoa_pki: EmulatedAmd) -> SignedReport:
    return emulated_genoa_pki.attest(bytes(range(64)), version=5)


@pytest.fixture(scope="module")
def root(emulated_genoa_pki: EmulatedAmd) -> x509.Certificate:
    return emulated_genoa_pki.ark_certificate()


def _verify(
    report: bytes, signed: SignedReport, root: x509.Certificate, policy: Policy | None = None
) -> Verdict:
    from akash_snp.attest.verify import verify_attestation

    return verify_attestation(
        report, certificates=[signed.cert_table], at=AT, extra_roots=[root], policy=policy
    )


def _failed(verdict: Verdict) -> frozenset[str]:
    return frozenset(check.name for check in verdict.checks if not check.ok)


def test_untouched_report_is_genuine(signed: SignedReport, root: x509.Certificate) -> None:
    verdict = _verify(signed.report, signed, root)
    assert verdict.genuine, verdict.summary()


@PROPERTY
@given(offset=st.integers(0, SIGNED_REGION_END - 1), bit=st.integers(0, 7))
@example(offset=0x000, bit=0)  # VERSION 5 -> 4
@example(offset=0x00A, bit=2)  # POLICY.MIGRATE_MA
@example(offset=0x00A, bit=3)  # POLICY.DEBUG
@example(offset=0x048, bit=2)  # SIGNING_KEY VLEK
@example(offset=0x048, bit=3)  # SIGNING_KEY reserved
@example(offset=0x180, bit=0)  # REPORTED_TCB
@example(offset=0x188, bit=0)  # CPUID_FAM_ID
@example(offset=CLAIMS_MILAN[0], bit=CLAIMS_MILAN[1])
@example(offset=0x1A0, bit=0)  # CHIP_ID
def test_flipping_any_signed_bit_rejects(
    signed: SignedReport, root: x509.Certificate, offset: int, bit: int
) -> None:
    tampered = bytearray(signed.report)
    tampered[offset] ^= 1 << bit
    verdict = _verify(bytes(tampered), signed, root)
    expected = _flip_fails(offset, bit)
    assert _failed(verdict) == expected, verdict.summary()
    assert verdict.first_failure is not None
    assert verdict.first_failure.name in expected


@PROPERTY
@given(offset=st.integers(SIGNED_REGION_END, SIGNED_REGION_END + 143), value=st.integers(1, 255))
@example(offset=SIGNED_REGION_END + 47, value=1)  # last byte of R's value
@example(offset=SIGNED_REGION_END + 48, value=1)  # first zero byte after R's value
def test_changing_any_byte_of_r_or_s_rejects(
    signed: SignedReport, root: x509.Certificate, offset: int, value: int
) -> None:
    tampered = bytearray(signed.report)
    tampered[offset] ^= value
    verdict = _verify(bytes(tampered), signed, root)
    assert _failed(verdict) == _signature_fails(offset), verdict.summary()


# Fields a policy can pin: (offset, size, the policy.* check, the pinning policy from the report).
PINNED: dict[str, tuple[int, int, str, Callable[[Report], Policy]]] = {
    "FAMILY_ID": (0x10, 16, "policy.family_id", lambda r: Policy(family_id=r.family_id)),
    "IMAGE_ID": (0x20, 16, "policy.image_id", lambda r: Policy(image_id=r.image_id)),
    "VMPL": (0x30, 4, "policy.max_vmpl", lambda r: Policy(max_vmpl=r.vmpl)),  # VMPL 0: any flip
    "REPORT_DATA": (0x50, 64, "policy.report_data", lambda r: Policy(report_data=r.report_data)),
    "MEASUREMENT": (
        0x90, 48, "policy.measurement", lambda r: Policy(allowed_measurements=(r.measurement,))
    ),
    "HOST_DATA": (0xC0, 32, "policy.host_data", lambda r: Policy(host_data=r.host_data)),
    "ID_KEY_DIGEST": (
        0xE0, 48, "policy.id_key_digest", lambda r: Policy(id_key_digests=(r.id_key_digest,))
    ),
    "AUTHOR_KEY_DIGEST": (
        0x110, 48, "policy.author_key_digest",
        lambda r: Policy(author_key_digests=(r.author_key_digest,)),
    ),
}  # fmt: skip


@given(field=st.sampled_from(sorted(PINNED)), data=st.data())
def test_changing_a_pinned_field_fails_its_policy_rule(
    signed: SignedReport, root: x509.Certificate, field: str, data: st.DataObject
) -> None:
    offset, size, rule, pin = PINNED[field]
    policy = pin(parse_report(signed.report))
    assert _verify(signed.report, signed, root, policy).genuine
    tampered = bytearray(signed.report)
    tampered[data.draw(st.integers(offset, offset + size - 1))] ^= data.draw(st.integers(1, 255))
    verdict = _verify(bytes(tampered), signed, root, policy)
    assert _failed(verdict) == {"report_signature", rule}, verdict.summary()


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


@given(report=st.binary(min_size=REPORT_SIZE, max_size=REPORT_SIZE))
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
    failed = _failed(verdict)
    if failed == FORMAT:
        assert len(verdict.checks) == 1  # a refused report is checked no further
    else:  # parsed by chance: nothing signed these bytes (or they name no usable key)
        assert failed & {"report_signature", SIGNING_KEY}, verdict.summary()


@given(blob=st.binary(max_size=3000))
def test_arbitrary_certificate_input_raises_only_library_errors(
    signed: SignedReport, blob: bytes
) -> None:
    from akash_snp.attest.errors import AttestError
    from akash_snp.attest.verify import verify_attestation

    with pytest.raises(AttestError):
        verify_attestation(signed.report, certificates=[blob], at=AT)
