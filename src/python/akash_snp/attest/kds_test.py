"""The KDS client against the fake KDS over real HTTP on 127.0.0.1."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from akash_snp.attest.certs import CertRole, load_certificates
from akash_snp.attest.constants import Product
from akash_snp.attest.errors import KdsError, KdsOfflineError
from akash_snp.attest.kds import (
    FROM_CACHE,
    FROM_KDS,
    KdsClient,
    KdsSettings,
    chain_path,
    crl_path,
    vcek_path,
)
from akash_snp.attest.policy import Policy
from akash_snp.attest.tcb import TcbVersion
from akash_snp.attest.verify import verify_attestation
from akash_snp.emulation.pki import EmulatedAmd
from akash_snp.testing.fake_kds import FakeKds

AT = datetime(2025, 6, 1, tzinfo=timezone.utc)
GENOA_TCB = TcbVersion(bootloader=10, tee=0, snp=23, microcode=84)


def _client(kds: FakeKds, **overrides: Any) -> KdsClient:
    # Generous timeouts unless a test is about them: the fake KDS signs with pure-Python RSA,
    # which is slow on a busy machine.
    settings = KdsSettings(
        base_url=kds.url,
        request_timeout=20.0,
        deadline=60.0,
        backoff_initial=0.01,
        backoff_max=0.05,
    )
    return KdsClient(settings._replace(**overrides))


def test_url_formats() -> None:
    chip = bytes(range(64))
    assert vcek_path(Product.MILAN, chip, TcbVersion(3, 0, 8, 115)) == (
        f"/vcek/v1/Milan/{chip.hex()}?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115"
    )
    assert vcek_path(Product.TURIN, chip, TcbVersion(1, 0, 3, 81, fmc=2)) == (
        f"/vcek/v1/Turin/{chip[:8].hex()}?fmcSPL=2&blSPL=1&teeSPL=0&snpSPL=3&ucodeSPL=81"
    )
    assert chain_path(Product.GENOA, "vlek") == "/vlek/v1/Genoa/cert_chain"
    assert crl_path(Product.GENOA, "vcek") == "/vcek/v1/Genoa/crl"
    with pytest.raises(KdsError, match="without a chip id"):
        vcek_path(Product.GENOA, bytes(64), GENOA_TCB)


def test_vcek_fetch_then_cache_hit(fake_kds: FakeKds, emulated_genoa_pki: EmulatedAmd) -> None:
    client = _client(fake_kds)
    chip = emulated_genoa_pki.default_chip_id()
    first = client.vcek(Product.GENOA, chip, GENOA_TCB)
    second = client.vcek(Product.GENOA, chip, GENOA_TCB)
    assert first.body == second.body == emulated_genoa_pki.vcek_der(chip, GENOA_TCB)
    assert (first.source, second.source) == (FROM_KDS, FROM_CACHE)
    assert len(fake_kds.requests) == 1
    (cert,) = load_certificates(first.body)
    assert cert.role is CertRole.VCEK


def test_429_then_success(fake_kds: FakeKds) -> None:
    fake_kds.fail_next(429, count=2, retry_after="0")
    chain = _client(fake_kds).cert_chain(Product.GENOA, "vcek")
    assert [c.role for c in load_certificates(chain.body)] == [CertRole.ASK, CertRole.ARK]
    assert len(fake_kds.requests) == 3


def test_500_then_success_and_404_is_final(fake_kds: FakeKds) -> None:
    fake_kds.fail_next(500)
    client = _client(fake_kds)
    assert client.crl(Product.MILAN, "vcek", now=AT)
    assert len(fake_kds.requests) == 2
    with pytest.raises(KdsError, match="HTTP 404"):
        client.cert_chain(Product.MILAN, "nope")  # type: ignore[arg-type]
    assert len(fake_kds.requests) == 3


def test_persistent_throttling_gives_up_after_max_attempts(fake_kds: FakeKds) -> None:
    fake_kds.fail_next(429, count=10)
    with pytest.raises(KdsError, match=r"3 attempt\(s\); last: HTTP 429"):
        _client(fake_kds, max_attempts=3).cert_chain(Product.GENOA)
    assert len(fake_kds.requests) == 3


def test_slow_answers_time_out(fake_kds: FakeKds) -> None:
    fake_kds.delay = 1.0
    client = _client(fake_kds, request_timeout=0.2, deadline=0.5, max_attempts=10)
    with pytest.raises(KdsError, match="within 0.5s") as raised:
        client.cert_chain(Product.GENOA)
    assert "timed out" in str(raised.value)


def test_deadline_stops_retrying(fake_kds: FakeKds) -> None:
    fake_kds.fail_next(503, count=10, retry_after="30")
    with pytest.raises(KdsError, match="would pass the 1s deadline"):
        _client(fake_kds, deadline=1.0, max_attempts=10).cert_chain(Product.GENOA)
    assert len(fake_kds.requests) == 1


def test_offline_never_touches_the_network(tmp_path: Path, fake_kds: FakeKds) -> None:
    offline = _client(fake_kds, offline=True, cache_dir=tmp_path)
    with pytest.raises(KdsOfflineError, match="not cached") as raised:
        offline.cert_chain(Product.GENOA)
    assert "/vcek/v1/Genoa/cert_chain" in str(raised.value)
    assert str(tmp_path) in str(raised.value)
    assert fake_kds.requests == []
    # Fill the on-disk cache online, then a fresh offline client finds it there.
    _client(fake_kds, cache_dir=tmp_path).cert_chain(Product.GENOA)
    assert len(fake_kds.requests) == 1
    assert offline.cert_chain(Product.GENOA).source == FROM_CACHE
    assert len(fake_kds.requests) == 1


def test_unreachable_kds(tmp_path: Path) -> None:
    client = KdsClient(
        KdsSettings(
            base_url="http://127.0.0.1:9", deadline=0.5, backoff_initial=0.01, request_timeout=0.2
        )
    )
    with pytest.raises(KdsError, match="ConnectionRefusedError"):
        client.cert_chain(Product.MILAN)


def test_corrupt_cache_file_is_reported(tmp_path: Path, fake_kds: FakeKds) -> None:
    client = _client(fake_kds, cache_dir=tmp_path)
    client.cert_chain(Product.GENOA)
    (cache_file,) = tmp_path.iterdir()
    cache_file.write_bytes(b"garbage")
    with pytest.raises(KdsError, match="is corrupt"):
        _client(fake_kds, cache_dir=tmp_path).cert_chain(Product.GENOA)


def test_verification_fetches_what_is_missing(
    fake_kds: FakeKds, emulated_genoa_pki: EmulatedAmd, emulated_roots: list[x509.Certificate]
) -> None:
    client = _client(fake_kds)
    signed = emulated_genoa_pki.attest(b"\x05" * 64)
    for _ in range(2):
        verdict = verify_attestation(
            signed.report,
            at=AT,
            kds=client,
            extra_roots=emulated_roots,
            policy=Policy(require_crl=True),
        )
        assert verdict.genuine, verdict.summary()
    assert sorted(p.split("?")[0].rsplit("/", 1)[-1] for p in fake_kds.requests) == sorted(
        ["cert_chain", "crl", emulated_genoa_pki.default_chip_id().hex()]
    )
