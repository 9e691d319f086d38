"""Which KDS paths the proxy accepts, and their canonical form (the cache key)."""

from __future__ import annotations

import pytest

from akash_snp.agent.kds_paths import KdsPathError, parse_kds_request
from akash_snp.attest.constants import Product
from akash_snp.attest.kds import chain_path, crl_path, vcek_path
from akash_snp.attest.tcb import TcbVersion

HWID = bytes(range(1, 65))


def test_chain_and_crl_paths() -> None:
    assert parse_kds_request("/vlek/v1/Milan/cert_chain", "").path == chain_path(
        Product.MILAN, "vlek"
    )
    parsed = parse_kds_request("/vcek/v1/Turin/crl", "")
    assert (parsed.what, parsed.product, parsed.kind) == ("crl", Product.TURIN, "vcek")
    assert parsed.path == crl_path(Product.TURIN, "vcek")


def test_vcek_query_order_does_not_matter() -> None:
    tcb = TcbVersion(bootloader=7, tee=0, snp=21, microcode=210)
    canonical = vcek_path(Product.GENOA, HWID, tcb)
    shuffled = parse_kds_request(
        f"/vcek/v1/Genoa/{HWID.hex().upper()}", "ucodeSPL=210&snpSPL=21&teeSPL=0&blSPL=7"
    )
    assert shuffled.path == canonical
    assert shuffled.tcb == tcb


def test_turin_needs_fmc_and_an_8_byte_hwid() -> None:
    parsed = parse_kds_request(
        f"/vcek/v1/Turin/{HWID[:8].hex()}", "fmcSPL=1&blSPL=2&teeSPL=3&snpSPL=4&ucodeSPL=5"
    )
    assert parsed.tcb == TcbVersion(bootloader=2, tee=3, snp=4, microcode=5, fmc=1)
    with pytest.raises(KdsPathError, match="fmcSPL"):
        parse_kds_request(
            f"/vcek/v1/Turin/{HWID[:8].hex()}", "blSPL=2&teeSPL=3&snpSPL=4&ucodeSPL=5"
        )


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/vcek/v1/Genoa/cert_chain", "a=b"),
        ("/vcek/v2/Genoa/cert_chain", ""),
        ("/vcek/v1/Genoa/../crl", ""),
        (f"/vcek/v1/Genoa/{HWID.hex()}", "blSPL=1&blSPL=1&teeSPL=0&snpSPL=1&ucodeSPL=1"),
        (f"/vcek/v1/Genoa/{HWID.hex()}", "blSPL=-1&teeSPL=0&snpSPL=1&ucodeSPL=1"),
        (f"/vcek/v1/Genoa/{HWID.hex()}", "blSPL=1&teeSPL=0&snpSPL=1&ucodeSPL=1&x="),
        (f"/vcek/v1/Genoa/{HWID.hex()[:-2]}", "blSPL=1&teeSPL=0&snpSPL=1&ucodeSPL=1"),
    ],
)
def test_refused(path: str, query: str) -> None:
    with pytest.raises(KdsPathError):
        parse_kds_request(path, query)
