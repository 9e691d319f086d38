"""CRL loading errors and checks with the emulated PKI."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from akash_snp.attest.certs import CertRole, load_certificates
from akash_snp.attest.crl import freshness_problem, load_crl, revocation_problem, signature_problem
from akash_snp.attest.errors import CrlError
from akash_snp.emulation.pki import EPOCH, EmulatedAmd


def test_emulated_crl_checks(emulated_genoa_pki: EmulatedAmd) -> None:
    pki = emulated_genoa_pki
    ark, ask = (load_certificates(pki.chain_pem())[i] for i in (1, 0))
    assert (ark.role, ask.role) == (CertRole.ARK, CertRole.ASK)
    revoking = load_crl(pki.crl_der((pki.ask_serial(),), next_update=EPOCH + timedelta(days=1)))
    assert signature_problem(revoking, ark) is None
    assert signature_problem(revoking, ask) is not None  # wrong issuer
    problem = revocation_problem(revoking, ask)
    assert problem is not None
    assert "revoked" in problem
    assert freshness_problem(revoking, EPOCH + timedelta(hours=1)) is None
    assert "nextUpdate" in (freshness_problem(revoking, EPOCH + timedelta(days=2)) or "")
    assert "after" in (freshness_problem(revoking, EPOCH - timedelta(days=1)) or "")
    assert revocation_problem(load_crl(pki.crl_der()), ask) is None


def test_pem_crl_loads(emulated_genoa_pki: EmulatedAmd) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding

    der = emulated_genoa_pki.crl_der()
    pem = load_crl(der).public_bytes(Encoding.PEM)
    assert load_crl(pem).last_update_utc == datetime(2025, 1, 1, tzinfo=timezone.utc)


def test_garbage_is_a_crl_error() -> None:
    with pytest.raises(CrlError, match="not a valid CRL"):
        load_crl(b"\x30\x00")


@pytest.fixture(scope="module")
def crl_with_entries(emulated_genoa_pki: EmulatedAmd) -> bytes:
    return emulated_genoa_pki.crl_der((5, 6))


@given(st.data())
def test_mutated_crls_raise_only_crl_errors(crl_with_entries: bytes, data: st.DataObject) -> None:
    crl = bytearray(crl_with_entries)
    position = data.draw(st.integers(0, len(crl) - 1))
    crl[position] = data.draw(st.integers(0, 255))
    try:
        loaded = load_crl(bytes(crl[: data.draw(st.integers(1, len(crl)))]))
    except CrlError:
        return
    assert loaded.issuer is not None
