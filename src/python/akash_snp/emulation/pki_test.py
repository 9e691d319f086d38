"""The emulated AMD PKI: AMD's shape, a visible marker, and never trusted by default."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID, SignatureAlgorithmOID

from akash_snp.attest.certs import CertRole, load_certificates
from akash_snp.attest.chain import is_amd_root, verify_link
from akash_snp.attest.constants import Product
from akash_snp.attest.verify import verify_attestation
from akash_snp.emulation.pki import EmulatedAmd, is_emulated
from akash_snp.emulation.pss import sign_pss_sha384

AT = datetime(2025, 6, 1, tzinfo=timezone.utc)


def test_load_or_create_creates_then_reloads_the_same_pki(tmp_path: Path) -> None:
    created = EmulatedAmd.load_or_create(tmp_path, "Milan")
    assert (tmp_path / "ark.pem").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [
            "ark.pem",
            "ask.pem",
            "asvk.pem",
            "ark-key.pem",
            "ask-key.pem",
            "asvk-key.pem",
            "vcek_chain.pem",
            "vlek_chain.pem",
        ]
    )
    reloaded = EmulatedAmd.load_or_create(tmp_path, "Milan")
    assert reloaded.ark_der() == created.ark_der()
    assert (tmp_path / "ark.pem").read_bytes() == created.ark_pem()
    with pytest.raises(ValueError, match="holds the PKI of ARK-Milan, not Genoa"):
        EmulatedAmd.load_or_create(tmp_path, "Genoa")


def test_certificates_have_amds_shape(emulated_genoa_pki: EmulatedAmd) -> None:
    pki = emulated_genoa_pki
    signed = pki.attest()
    ark, ask, vcek = load_certificates(signed.cert_table)
    assert [ark.role, ask.role, vcek.role] == [CertRole.ARK, CertRole.ASK, CertRole.VCEK]
    for cert in (ark, ask):
        assert isinstance(cert.public_key, rsa.RSAPublicKey)
        assert cert.public_key.key_size == 4096
    assert isinstance(vcek.public_key, ec.EllipticCurvePublicKey)
    assert vcek.public_key.curve.name == "secp384r1"
    for cert in (ark, ask, vcek):
        assert cert.cert.signature_algorithm_oid == SignatureAlgorithmOID.RSASSA_PSS
        org = cert.cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
        assert org[0].value == "Advanced Micro Devices"
        assert is_emulated(cert.cert)
    assert (ark.subject_cn, ask.subject_cn, vcek.subject_cn) == (
        "ARK-Genoa",
        "SEV-Genoa",
        "SEV-VCEK",
    )
    assert verify_link(ask, ark) is None
    assert verify_link(vcek, ask) is None
    assert not is_amd_root(ark)


def test_real_amd_certificates_are_not_marked_emulated(snp_real_dir: Path) -> None:
    chain = load_certificates((snp_real_dir / "amd" / "genoa_vcek_chain.pem").read_bytes())
    assert not any(is_emulated(c.cert) for c in chain)


def test_emulated_reports_are_rejected_against_amd_roots(
    emulated_pkis: dict[Product, EmulatedAmd],
) -> None:
    for pki in emulated_pkis.values():
        signed = pki.attest()
        verdict = verify_attestation(signed.report, certificates=[signed.cert_table], at=AT)
        assert not verdict.genuine
        assert verdict.first_failure is not None
        assert verdict.first_failure.name == "ark_trusted"
        trusted = verify_attestation(
            signed.report,
            certificates=[signed.cert_table],
            at=AT,
            extra_roots=[pki.ark_certificate()],
        )
        assert trusted.genuine, trusted.summary()


def test_deterministic_pss_signatures_verify(emulated_genoa_pki: EmulatedAmd) -> None:
    from akash_snp.attest.chain import pss_verify

    key = emulated_genoa_pki.ask_key
    first = sign_pss_sha384(key, b"message", b"seed")
    assert first == sign_pss_sha384(key, b"message", b"seed")
    assert first != sign_pss_sha384(key, b"message", b"other seed")
    assert pss_verify(key.public_key(), first, b"message")
    assert not pss_verify(key.public_key(), first, b"other message")


def test_vlek_and_masked_chip(emulated_genoa_pki: EmulatedAmd) -> None:
    signed = emulated_genoa_pki.attest(signing_key="VLEK", mask_chip_id=True, vmpl=1)
    (vlek,) = load_certificates(signed.endorsement_der)
    assert vlek.role is CertRole.VLEK
    assert vlek.extensions is not None
    assert vlek.extensions.csp_id == "CN=emulated-csp.example"
    verdict = verify_attestation(
        signed.report,
        certificates=[signed.cert_table],
        at=AT,
        extra_roots=[emulated_genoa_pki.ark_certificate()],
    )
    assert verdict.genuine
    assert verdict.check("chip_id_matches_hwid").detail.startswith("skipped")
