"""The agent's KDS proxy, as a real agent process in front of the fake KDS (real HTTP, counting
upstream requests)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from akash_snp.attest.constants import Product
from akash_snp.attest.kds import KdsClient, KdsSettings, vcek_path
from akash_snp.emulation.firmware import DEFAULT_TCB
from akash_snp.emulation.pki import EmulatedAmd
from akash_snp.testing.agent_process import emulated_agent_flags
from akash_snp.testing.fake_kds import FakeKds
from akash_snp.testing.sidecar_process import SidecarProcess

CHAIN = "/vcek/v1/Genoa/cert_chain"


@pytest.fixture()
def proxy(emulated_pki_dir: Path, fake_kds: FakeKds) -> Iterator[SidecarProcess]:
    flags = emulated_agent_flags(emulated_pki_dir, "--interval", "3600", "--threads", "16")
    flags[flags.index("--kds-url") + 1] = fake_kds.url
    with SidecarProcess(flags, subcommand=["agent"]) as agent:
        yield agent


def test_100_concurrent_chain_requests_make_one_upstream_request(
    proxy: SidecarProcess, fake_kds: FakeKds, emulated_pkis: dict[Product, EmulatedAmd]
) -> None:
    fake_kds.delay = 0.5  # keep the first request in flight while the others arrive

    def sidecar_style_fetch(_: int) -> bytes:
        return KdsClient(KdsSettings(base_url=f"{proxy.url}/kds")).cert_chain(Product.GENOA).body

    with ThreadPoolExecutor(max_workers=100) as pool:
        chains = list(pool.map(sidecar_style_fetch, range(100)))
    assert set(chains) == {emulated_pkis[Product.GENOA].chain_pem("vcek")}
    assert fake_kds.requests.count(CHAIN) == 1
    text = requests.get(f"{proxy.url}/metrics", timeout=10).text
    assert "sev_agent_kds_cache_hits_total 99.0" in text


def test_vcek_and_crl_are_proxied(
    proxy: SidecarProcess, fake_kds: FakeKds, emulated_pkis: dict[Product, EmulatedAmd]
) -> None:
    pki = emulated_pkis[Product.GENOA]
    chip = pki.default_chip_id()
    path = vcek_path(Product.GENOA, chip, DEFAULT_TCB[Product.GENOA])
    for _ in range(2):
        vcek = requests.get(f"{proxy.url}/kds{path}", timeout=30)
        crl = requests.get(f"{proxy.url}/kds/vlek/v1/Genoa/crl", timeout=30)
        assert vcek.status_code == crl.status_code == 200
    assert vcek.content == pki.vcek_der(chip, DEFAULT_TCB[Product.GENOA])
    assert crl.content == pki.crl_der()
    assert sorted(fake_kds.requests) == sorted([path, "/vlek/v1/Genoa/crl"])


@pytest.mark.parametrize(
    "path",
    [
        "/kds/etc/passwd",
        "/kds/vcek/v1/Genoa/cert_chain?x=1",
        "/kds/vcek/v1/Rome/cert_chain",
        "/kds/vlek/v1/Genoa/" + "ab" * 64 + "?blSPL=1&teeSPL=0&snpSPL=1&ucodeSPL=1",
        "/kds/vcek/v1/Genoa/" + "ab" * 64 + "?blSPL=1&teeSPL=0&snpSPL=1",
        "/kds/vcek/v1/Genoa/" + "ab" * 64 + "?blSPL=1&teeSPL=0&snpSPL=1&ucodeSPL=999",
        "/kds/vcek/v1/Genoa/" + "00" * 64 + "?blSPL=1&teeSPL=0&snpSPL=1&ucodeSPL=1",
        "/kds/vcek/v1/Turin/" + "ab" * 64 + "?fmcSPL=1&blSPL=1&teeSPL=0&snpSPL=1&ucodeSPL=1",
    ],
)
def test_other_paths_are_404_and_never_forwarded(
    proxy: SidecarProcess, fake_kds: FakeKds, path: str
) -> None:
    response = requests.get(f"{proxy.url}{path}", timeout=10)
    assert response.status_code == 404
    assert response.json()["error"]
    assert fake_kds.requests == []


@pytest.mark.parametrize(("upstream", "status"), [(404, 404), (403, 502)])
def test_upstream_refusal_is_passed_on_and_remembered(
    proxy: SidecarProcess, fake_kds: FakeKds, upstream: int, status: int
) -> None:
    fake_kds.fail_next(upstream, count=1)
    first = requests.get(f"{proxy.url}/kds{CHAIN}", timeout=60)
    second = requests.get(f"{proxy.url}/kds{CHAIN}", timeout=60)
    assert first.status_code == second.status_code == status
    assert f"HTTP {upstream}" in first.json()["error"]
    assert "remembered" in second.json()["error"]
    assert fake_kds.requests == [CHAIN]
