"""Certificate loading, role recognition and AMD extension parsing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st

from akash_snp.attest.certs import CertRole, load_all, load_certificates
from akash_snp.attest.certtable import CertTableEntry, build_cert_table
from akash_snp.attest.constants import GUID_VCEK, Product
from akash_snp.attest.errors import AttestError, CertificateError
from akash_snp.attest.tcb import TcbVersion
from akash_snp.emulation.pki import EmulatedAmd, is_emulated


def test_spl_of_128_and_above_is_read(snp_real_dir: Path) -> None:
    # ucodeSPL 0xa9 is DER-encoded with a leading zero byte.
    path = snp_real_dir / "reports" / "milan-v2-vcek-tcb-lag" / "wrong_vcek_1.der"
    (cert,) = load_certificates(path.read_bytes())
    assert cert.extensions is not None
    assert cert.extensions.tcb.microcode == 0xA9


def test_wrapped_hwid_is_unwrapped(snp_real_dir: Path) -> None:
    path = snp_real_dir / "reports" / "milan-v2-vcek-tcb-lag" / "wrong_vcek_2.der"
    (cert,) = load_certificates(path.read_bytes())
    assert cert.extensions is not None
    assert cert.extensions.hwid == bytes(range(64))


def test_vlek_has_csp_id_and_no_hwid(snp_real_dir: Path) -> None:
    (cert,) = load_certificates((snp_real_dir / "reports/milan-v3-vlek-aws/vlek.der").read_bytes())
    assert cert.role is CertRole.VLEK
    assert cert.product is Product.MILAN
    assert cert.extensions is not None
    assert cert.extensions.csp_id == "CN=cc-us-east-2.amazonaws.com"
    assert cert.extensions.hwid is None
    assert cert.extensions.product_name == "Milan"


def test_bundle_with_vcek_ask_ark(snp_real_dir: Path) -> None:
    blob = (snp_real_dir / "reports/milan-v2-vcek-azure/vcek_with_chain.pem").read_bytes()
    assert [c.role for c in load_certificates(blob)] == [CertRole.VCEK, CertRole.ASK, CertRole.ARK]


def test_emulated_turin_extensions(emulated_pkis: dict[Product, EmulatedAmd]) -> None:
    pki = emulated_pkis[Product.TURIN]
    tcb = TcbVersion(fmc=2, bootloader=200, tee=1, snp=130, microcode=255)
    chip = bytes(range(1, 9)).ljust(64, b"\0")
    for wrap in (False, True):
        (cert,) = load_certificates(pki.vcek_der(chip, tcb, wrap_hwid=wrap))
        assert cert.extensions is not None
        assert cert.extensions.struct_version == 1
        assert cert.extensions.tcb == tcb
        assert cert.extensions.hwid == bytes(range(1, 9))
        assert cert.cert.serial_number == 0
        assert is_emulated(cert.cert)


def test_der_pem_and_cert_table_give_the_same_certificates(
    emulated_genoa_pki: EmulatedAmd,
) -> None:
    signed = emulated_genoa_pki.attest()
    from_table = load_certificates(signed.cert_table)
    assert [c.role for c in from_table] == [CertRole.ARK, CertRole.ASK, CertRole.VCEK]
    pem = emulated_genoa_pki.chain_pem("vcek")
    merged = load_all([signed.cert_table, pem, signed.endorsement_der])
    assert len(merged) == 3  # duplicates dropped


def _self_signed(common_name: str) -> bytes:
    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(5)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA384())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"", "empty certificate input"),
        (b"hello", "neither PEM, DER"),
        (b"\x30\x03\x02\x01\x00", "not a valid certificate"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "not a valid"),
        (_self_signed("example.com"), "not an AMD SEV-SNP certificate"),
        (_self_signed("SEV-VCEK"), "names no known product"),
    ],
)
def test_bad_inputs_raise_certificate_errors(blob: bytes, message: str) -> None:
    with pytest.raises(CertificateError, match=message):
        load_certificates(blob)


def test_cert_table_with_garbage_entry_is_an_error() -> None:
    table = build_cert_table([CertTableEntry(GUID_VCEK, b"garbage!")])
    with pytest.raises(CertificateError):
        load_certificates(table)


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_raise_only_library_errors(data: bytes) -> None:
    try:
        loaded = load_certificates(data)
    except AttestError:
        return  # the library's own error type is the acceptable failure
    assert all(isinstance(c.role, CertRole) for c in loaded)


@given(st.data())
def test_mutated_certificate_files_raise_only_library_errors(
    snp_real_dir: Path, data: st.DataObject
) -> None:
    files = sorted(snp_real_dir.glob("reports/*/*")) + sorted(snp_real_dir.glob("amd/*.pem"))
    files = [f for f in files if f.suffix in (".der", ".pem")]
    original = bytearray(data.draw(st.sampled_from(files)).read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(original) - 1))
        original[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(original)))
    try:
        loaded = load_certificates(bytes(original[:cut]))
    except AttestError:
        return  # the library's own error type is the acceptable failure
    assert all(isinstance(c.role, CertRole) for c in loaded)


def test_product_comes_from_the_issuer_whatever_product_name_says(
    emulated_genoa_pki: EmulatedAmd,
) -> None:
    """A contradicting productName is not unreadable input: the certificate loads (its product is
    its issuer's) and verification rejects it (``endorsement_product_name``; see the CLI's
    forged-VCEK test)."""
    pki = emulated_genoa_pki
    tcb = TcbVersion(bootloader=1, tee=0, snp=1, microcode=1)
    extensions = pki._spl_extensions(tcb, "Milan-B0")  # a Genoa-issued VCEK claiming Milan
    der = pki._endorsement(
        "SEV-VCEK",
        pki.vcek_key(bytes(64), tcb),
        "SEV-Genoa",
        pki.ask_key,
        extensions,
        datetime(2025, 1, 1, tzinfo=timezone.utc),
        timedelta(days=1),
    )
    (cert,) = load_certificates(der)
    assert (cert.role, cert.product) == (CertRole.VCEK, Product.GENOA)
    assert cert.extensions is not None
    assert cert.extensions.product_name == "Milan-B0"
