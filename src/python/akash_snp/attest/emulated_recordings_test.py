"""The project's emulated recordings (testdata/emulated) and the checks real data cannot reach."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from akash_snp.attest.constants import Product
from akash_snp.attest.errors import ChainError, UnknownProductError
from akash_snp.attest.policy import Policy
from akash_snp.attest.report import parse_report
from akash_snp.attest.tcb import TcbVersion
from akash_snp.attest.verify import verify_attestation
from akash_snp.emulation.firmware import DEFAULT_TCB, sign, unsigned_report
from akash_snp.emulation.pki import EmulatedAmd

AT = datetime(2025, 6, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def manifest(emulated_dir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((emulated_dir / "manifest.json").read_text())
    return loaded


def test_recordings_verify_only_with_the_emulated_root(
    manifest: dict[str, Any], emulated_dir: Path, emulated_roots: list[x509.Certificate]
) -> None:
    versions, products, keys = set(), set(), set()
    for case in manifest["cases"]:
        report = (emulated_dir / case["report"]).read_bytes()
        at = datetime.fromisoformat(case["verify_at"])
        for certs in ([case["cert_table"]], [case["endorsement_cert"], case["chain"]]):
            blobs = [(emulated_dir / name).read_bytes() for name in certs]
            trusted = verify_attestation(
                report, certificates=blobs, at=at, extra_roots=emulated_roots
            )
            assert trusted.genuine, (case["id"], trusted.summary())
            assert trusted.product == case["product"]
            untrusted = verify_attestation(report, certificates=blobs, at=at)
            assert not untrusted.genuine
            assert untrusted.first_failure is not None
            assert untrusted.first_failure.name == "ark_trusted"
        versions.add(case["report_version"])
        products.add(case["product"])
        keys.add(case["signing_key"])
    assert versions == {2, 3, 5}
    assert products == {"Milan", "Genoa", "Turin"}
    assert keys == {"VCEK", "VLEK"}


def test_revoked_ask_is_rejected(
    manifest: dict[str, Any], emulated_dir: Path, emulated_roots: list[x509.Certificate]
) -> None:
    case = next(c for c in manifest["cases"] if c["id"] == "genoa-v3-vcek")
    report = (emulated_dir / case["report"]).read_bytes()
    table = (emulated_dir / case["cert_table"]).read_bytes()
    pki_dir = emulated_dir / "pki" / "Genoa"
    clean = verify_attestation(
        report,
        certificates=[table],
        crls=[(pki_dir / "vcek.crl").read_bytes()],
        at=AT,
        extra_roots=emulated_roots,
        policy=Policy(require_crl=True),
    )
    assert clean.genuine, clean.summary()
    revoked = verify_attestation(
        report,
        certificates=[table],
        crls=[(pki_dir / "vcek_revoked_ask.crl").read_bytes()],
        at=AT,
        extra_roots=emulated_roots,
    )
    assert revoked.first_failure is not None
    assert revoked.first_failure.name == "intermediate_not_revoked"
    missing = verify_attestation(
        report,
        certificates=[table],
        at=AT,
        extra_roots=emulated_roots,
        policy=Policy(require_crl=True),
    )
    assert missing.first_failure is not None
    assert missing.first_failure.name == "crl_present"


def test_signing_key_must_match_certificate_kind(
    emulated_genoa_pki: EmulatedAmd, emulated_roots: list[x509.Certificate]
) -> None:
    vlek_signed = emulated_genoa_pki.attest(signing_key="VLEK")
    vcek_signed = emulated_genoa_pki.attest(signing_key="VCEK")
    chain = emulated_genoa_pki.chain_pem("vcek")
    # A VLEK report offered with only a VCEK: the kind check fails, the report is rejected.
    verdict = verify_attestation(
        vlek_signed.report,
        certificates=[vcek_signed.endorsement_der, chain],
        at=AT,
        extra_roots=emulated_roots,
    )
    failed = {check.name for check in verdict.checks if not check.ok}
    # The VCEK did not sign the VLEK report either.
    assert failed == {"signing_key_matches_certificate", "report_signature"}, verdict.summary()
    assert not verdict.genuine


def test_signing_key_none_is_rejected(
    emulated_genoa_pki: EmulatedAmd, emulated_roots: list[x509.Certificate]
) -> None:
    base = unsigned_report(Product.GENOA)
    report = sign(
        base._replace(signer_info=type(base.signer_info)(7 << 2)),
        emulated_genoa_pki.vcek_key(bytes(64), DEFAULT_TCB[Product.GENOA]),
    )
    verdict = verify_attestation(
        report,
        certificates=[emulated_genoa_pki.attest().cert_table],
        at=AT,
        extra_roots=emulated_roots,
    )
    assert verdict.first_failure is not None
    assert verdict.first_failure.name == "signing_key_matches_certificate"


def test_tcb_and_chip_id_mismatch_are_named(
    emulated_genoa_pki: EmulatedAmd, emulated_roots: list[x509.Certificate]
) -> None:
    pki = emulated_genoa_pki
    signed = pki.attest()
    other_tcb = TcbVersion(bootloader=9, tee=0, snp=23, microcode=84)
    wrong_tcb = pki.vcek_der(pki.default_chip_id(), other_tcb)
    verdict = verify_attestation(
        signed.report, certificates=[wrong_tcb, pki.chain_pem()], at=AT, extra_roots=emulated_roots
    )
    assert not verdict.check("reported_tcb_matches_certificate").ok
    assert "bl=10" in verdict.check("reported_tcb_matches_certificate").detail
    wrong_chip = pki.vcek_der(b"\x01" * 64, DEFAULT_TCB[Product.GENOA])
    verdict = verify_attestation(
        signed.report, certificates=[wrong_chip, pki.chain_pem()], at=AT, extra_roots=emulated_roots
    )
    assert not verdict.check("chip_id_matches_hwid").ok
    assert not verdict.check("report_signature").ok


def test_turin_compares_only_eight_chip_id_bytes(
    emulated_pkis: dict[Product, EmulatedAmd], emulated_roots: list[x509.Certificate]
) -> None:
    pki = emulated_pkis[Product.TURIN]
    signed = pki.attest(version=5)
    report = parse_report(signed.report)
    assert any(report.chip_id[:8])
    assert not any(report.chip_id[8:])
    verdict = verify_attestation(
        signed.report, certificates=[signed.cert_table], at=AT, extra_roots=emulated_roots
    )
    assert "8 bytes" in verdict.check("chip_id_matches_hwid").detail
    assert verdict.genuine


def test_v2_product_comes_from_certificate_or_configuration(
    emulated_pkis: dict[Product, EmulatedAmd], emulated_roots: list[x509.Certificate]
) -> None:
    pki = emulated_pkis[Product.MILAN]
    signed = pki.attest(version=2)
    verdict = verify_attestation(
        signed.report, certificates=[signed.cert_table], at=AT, extra_roots=emulated_roots
    )
    assert verdict.check("product").detail == "Milan (from the endorsement certificate)"
    conflicting = verify_attestation(
        signed.report,
        certificates=[signed.cert_table],
        at=AT,
        extra_roots=emulated_roots,
        product=Product.GENOA,
    )
    assert not conflicting.check("product").ok
    with pytest.raises(UnknownProductError, match=r"version 2 carries no CPUID"):
        verify_attestation(signed.report, certificates=[], at=AT)


def test_missing_certificates_without_kds_raise(emulated_genoa_pki: EmulatedAmd) -> None:
    signed = emulated_genoa_pki.attest()
    with pytest.raises(ChainError, match="no KDS client"):
        verify_attestation(signed.report, at=AT)
    with pytest.raises(ChainError, match="no ASK and ARK"):
        verify_attestation(signed.report, certificates=[signed.endorsement_der], at=AT)
    masked = emulated_genoa_pki.attest(signing_key="VLEK", mask_chip_id=True)
    with pytest.raises(ChainError, match="VLEK comes only with the extended report"):
        verify_attestation(masked.report, at=AT)


def test_expired_and_not_yet_valid(
    emulated_genoa_pki: EmulatedAmd, emulated_roots: list[x509.Certificate]
) -> None:
    signed = emulated_genoa_pki.attest(signing_key="VLEK")
    late = verify_attestation(
        signed.report,
        certificates=[signed.cert_table],
        at=datetime(2026, 6, 1, tzinfo=timezone.utc),
        extra_roots=emulated_roots,
    )
    assert late.first_failure is not None
    assert late.first_failure.name == "endorsement_key_validity"
    early = verify_attestation(
        signed.report,
        certificates=[signed.cert_table],
        at=datetime(2019, 1, 1, tzinfo=timezone.utc),
        extra_roots=emulated_roots,
    )
    assert "not valid before" in early.check("ark_validity").detail


def test_verdict_json_shape(
    emulated_genoa_pki: EmulatedAmd, emulated_roots: list[x509.Certificate]
) -> None:
    signed = emulated_genoa_pki.attest(b"\xaa" * 64)
    verdict = verify_attestation(
        signed.report, certificates=[signed.cert_table], at=AT, extra_roots=emulated_roots
    )
    data = json.loads(verdict.to_json())
    assert data["verdict"] == "genuine"
    assert data["product"] == "Genoa"
    assert data["signing_key"] == "VCEK"
    assert data["report"]["report_data"] == "aa" * 64
    assert all(set(c) == {"name", "ok", "detail"} for c in data["checks"])


def test_naive_time_is_refused(emulated_genoa_pki: EmulatedAmd) -> None:
    from akash_snp.attest.errors import AttestError

    with pytest.raises(AttestError, match="timezone-aware"):
        verify_attestation(emulated_genoa_pki.attest().report, at=datetime(2025, 1, 1))
