"""The fake KDS speaks KDS's URL scheme over real HTTP and can misbehave on request."""

from __future__ import annotations

import requests

from akash_snp.attest.certs import CertRole, load_certificates
from akash_snp.attest.constants import Product
from akash_snp.attest.kds import vcek_path
from akash_snp.attest.tcb import TcbVersion
from akash_snp.emulation.pki import EmulatedAmd
from akash_snp.testing.fake_kds import FakeKds


def test_serves_kds_paths(fake_kds: FakeKds, emulated_pkis: dict[Product, EmulatedAmd]) -> None:
    turin = emulated_pkis[Product.TURIN]
    tcb = TcbVersion(fmc=1, bootloader=1, tee=0, snp=3, microcode=81)
    answer = requests.get(
        fake_kds.url + vcek_path(Product.TURIN, turin.default_chip_id(), tcb), timeout=5
    )
    assert answer.status_code == 200
    (vcek,) = load_certificates(answer.content)
    assert vcek.extensions is not None
    assert vcek.extensions.tcb == tcb
    chain = requests.get(fake_kds.url + "/vlek/v1/Milan/cert_chain", timeout=5)
    assert [c.role for c in load_certificates(chain.content)] == [CertRole.ASVK, CertRole.ARK]
    assert requests.get(fake_kds.url + "/vcek/v1/Genoa/crl", timeout=5).status_code == 200
    assert requests.get(fake_kds.url + "/other", timeout=5).status_code == 404
    assert requests.get(fake_kds.url + "/vlek/v1/Genoa/abcd", timeout=5).status_code == 404
    assert requests.get(fake_kds.url + "/vcek/v1/Naples/cert_chain", timeout=5).status_code == 404
    assert len(fake_kds.requests) == 6


def test_scripted_failures(fake_kds: FakeKds) -> None:
    fake_kds.fail_next(429, retry_after="7")
    fake_kds.fail_next(500)
    first = requests.get(fake_kds.url + "/vcek/v1/Genoa/cert_chain", timeout=5)
    assert (first.status_code, first.headers["Retry-After"]) == (429, "7")
    assert requests.get(fake_kds.url + "/vcek/v1/Genoa/cert_chain", timeout=5).status_code == 500
    assert requests.get(fake_kds.url + "/vcek/v1/Genoa/cert_chain", timeout=5).status_code == 200
