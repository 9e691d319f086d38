"""Verification of real AMD recordings (../shared/testdata/snp-real): the ground truth."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from akash_snp.attest.certs import CertRole, load_certificates
from akash_snp.attest.constants import AMD_ARK_SHA256, Product
from akash_snp.attest.crl import load_crl, signature_problem
from akash_snp.attest.policy import Policy
from akash_snp.attest.report import parse_report, serialise_report
from akash_snp.attest.verify import verify_attestation

# The go-sev-guest recording was taken from a debug guest; authenticity is what is tested here.
LENIENT = Policy(allow_debug=True)


def _case_inputs(case: dict[str, Any], root: Path) -> tuple[bytes, list[bytes], datetime]:
    report = (root / case["report"]).read_bytes()
    certs = [(root / case["endorsement_cert"]).read_bytes(), (root / case["chain"]).read_bytes()]
    return report, certs, datetime.fromisoformat(case["verify_at"])


def test_manifest_has_cases(snp_real_manifest: dict[str, Any]) -> None:
    assert len(snp_real_manifest["cases"]) >= 6


def test_every_case_is_genuine_at_verify_at(
    snp_real_manifest: dict[str, Any], snp_real_dir: Path
) -> None:
    for case in snp_real_manifest["cases"]:
        report, certs, at = _case_inputs(case, snp_real_dir)
        verdict = verify_attestation(report, certificates=certs, at=at, policy=LENIENT)
        assert verdict.genuine, (case["id"], verdict.summary())
        assert verdict.product == case["product"]
        assert verdict.signing_key == case["signing_key"]
        parsed = parse_report(report)
        assert parsed.version == case["report_version"]
        assert parsed.reported_tcb.hex() == case["reported_tcb_hex"]
        assert parsed.current_tcb.hex() == case["current_tcb_hex"]
        assert parsed.committed_tcb.hex() == case["committed_tcb_hex"]
        assert parsed.vmpl == case["vmpl"]
        assert str(parsed.current_build) == case["firmware_build"]
        assert parsed.measurement.hex() == case["measurement_hex"]
        assert (not any(parsed.chip_id)) == case["chip_id_masked"]
        assert serialise_report(parsed) == report


def test_default_policy_rejects_only_the_debug_guest(
    snp_real_manifest: dict[str, Any], snp_real_dir: Path
) -> None:
    for case in snp_real_manifest["cases"]:
        report, certs, at = _case_inputs(case, snp_real_dir)
        verdict = verify_attestation(report, certificates=certs, at=at)
        if parse_report(report).policy.debug:
            assert verdict.authentic
            assert not verdict.genuine
            assert verdict.first_failure is not None
            assert verdict.first_failure.name == "policy.debug"
        else:
            assert verdict.genuine, verdict.summary()


def test_vlek_case_is_rejected_as_expired_now(
    snp_real_manifest: dict[str, Any], snp_real_dir: Path
) -> None:
    (case,) = (c for c in snp_real_manifest["cases"] if c["signing_key"] == "VLEK")
    report, certs, _ = _case_inputs(case, snp_real_dir)
    verdict = verify_attestation(report, certificates=certs, at=datetime.now(timezone.utc))
    assert not verdict.genuine
    failure = verdict.first_failure
    assert failure is not None
    assert failure.name == "endorsement_key_validity"
    assert "expired" in failure.detail
    assert verdict.check("chip_id_matches_hwid").detail.startswith("skipped")


def test_every_wrong_certificate_is_rejected(
    snp_real_manifest: dict[str, Any], snp_real_dir: Path
) -> None:
    tried = 0
    for case in snp_real_manifest["cases"]:
        report, _, at = _case_inputs(case, snp_real_dir)
        chain = (snp_real_dir / case["chain"]).read_bytes()
        for wrong in sorted((snp_real_dir / case["report"]).parent.glob("wrong_*")):
            verdict = verify_attestation(
                report, certificates=[wrong.read_bytes(), chain], at=at, policy=LENIENT
            )
            assert not verdict.genuine, wrong
            assert not verdict.check("report_signature").ok, wrong
            tried += 1
    assert tried >= 3


def test_report_tampered_in_one_bit_is_rejected(
    snp_real_manifest: dict[str, Any], snp_real_dir: Path
) -> None:
    case = snp_real_manifest["cases"][1]
    report, certs, at = _case_inputs(case, snp_real_dir)
    tampered = bytearray(report)
    tampered[0x90] ^= 0x01  # MEASUREMENT
    verdict = verify_attestation(bytes(tampered), certificates=certs, at=at, policy=LENIENT)
    assert verdict.first_failure is not None
    assert verdict.first_failure.name == "report_signature"


def test_self_supplied_unpinned_ark_is_rejected(
    snp_real_manifest: dict[str, Any], snp_real_dir: Path, emulated_genoa_pki: Any
) -> None:
    """A chain carrying its own ARK proves nothing unless the ARK matches the pin."""
    case = next(c for c in snp_real_manifest["cases"] if c["product"] == "Genoa")
    report, _, at = _case_inputs(case, snp_real_dir)
    vcek = (snp_real_dir / case["endorsement_cert"]).read_bytes()
    # A forged chain: an emulated ARK-Genoa/SEV-Genoa with AMD's names but another key.
    forged = emulated_genoa_pki.chain_pem("vcek")
    verdict = verify_attestation(report, certificates=[vcek, forged], at=at, policy=LENIENT)
    assert not verdict.genuine
    assert not verdict.check("ark_trusted").ok
    assert "not AMD's pinned ARK-Genoa" in verdict.check("ark_trusted").detail
    assert not verdict.check("endorsement_key_signed_by_intermediate").ok


def test_pinned_fingerprints_match_the_manifest(snp_real_manifest: dict[str, Any]) -> None:
    pins = snp_real_manifest["ark_sha256_of_der"]
    assert {p.value: h for p, h in AMD_ARK_SHA256.items()} == pins


def test_real_chains_have_the_expected_roles(snp_real_dir: Path) -> None:
    for product in Product:
        for kind, middle in (("vcek", CertRole.ASK), ("vlek", CertRole.ASVK)):
            path = snp_real_dir / "amd" / f"{product.value.lower()}_{kind}_chain.pem"
            loaded = load_certificates(path.read_bytes())
            assert [c.role for c in loaded] == [middle, CertRole.ARK]
            assert {c.product for c in loaded} == {product}
            assert loaded[1].sha256.hex() == AMD_ARK_SHA256[product]


def test_milan_crl_verifies_against_ark_milan(snp_real_dir: Path) -> None:
    revocations = load_crl((snp_real_dir / "amd" / "milan_vcek.crl").read_bytes())
    chain = load_certificates((snp_real_dir / "amd" / "milan_vcek_chain.pem").read_bytes())
    ark = next(c for c in chain if c.role is CertRole.ARK)
    assert signature_problem(revocations, ark) is None
    genoa = load_certificates((snp_real_dir / "amd" / "genoa_vcek_chain.pem").read_bytes())
    other_ark = next(c for c in genoa if c.role is CertRole.ARK)
    assert signature_problem(revocations, other_ark) is not None


def test_crl_checks_in_a_verification(
    snp_real_manifest: dict[str, Any], snp_real_dir: Path
) -> None:
    case = next(c for c in snp_real_manifest["cases"] if c["id"] == "milan-v2-vcek-virtee")
    report, certs, at = _case_inputs(case, snp_real_dir)
    crl_der = (snp_real_dir / "amd" / "milan_vcek.crl").read_bytes()
    stale = verify_attestation(report, certificates=certs, crls=[crl_der], at=at)
    assert stale.check("crl_signature").ok
    assert stale.check("intermediate_not_revoked").ok
    assert not stale.check("crl_fresh").ok  # nextUpdate 2023-05-09 passed before 2025
    allowed = verify_attestation(
        report, certificates=certs, crls=[crl_der], at=at, policy=Policy(allow_stale_crl=True)
    )
    assert allowed.genuine, allowed.summary()


def test_wrong_product_chain_is_an_error(
    snp_real_manifest: dict[str, Any], snp_real_dir: Path
) -> None:
    from akash_snp.attest.errors import ChainError

    case = next(c for c in snp_real_manifest["cases"] if c["product"] == "Genoa")
    report, _, at = _case_inputs(case, snp_real_dir)
    vcek = (snp_real_dir / case["endorsement_cert"]).read_bytes()
    milan_chain = (snp_real_dir / "amd" / "milan_vcek_chain.pem").read_bytes()
    with pytest.raises(ChainError, match="no ASK and ARK certificate for Genoa"):
        verify_attestation(report, certificates=[vcek, milan_chain], at=at)


def test_extra_forged_chain_does_not_displace_the_real_one(
    snp_real_manifest: dict[str, Any], snp_real_dir: Path, emulated_genoa_pki: Any
) -> None:
    case = next(c for c in snp_real_manifest["cases"] if c["product"] == "Genoa")
    report, certs, at = _case_inputs(case, snp_real_dir)
    forged = emulated_genoa_pki.chain_pem("vcek")
    for order in ([forged, *certs], [*certs, forged]):
        verdict = verify_attestation(report, certificates=order, at=at, policy=LENIENT)
        assert verdict.genuine, verdict.summary()
