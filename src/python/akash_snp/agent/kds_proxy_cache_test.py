"""The KDS proxy's cache lifetimes, in process with a controllable clock, against the fake KDS
over real HTTP: certificates stay cached, CRLs are fetched again after their TTL, failures are
remembered only briefly."""

from __future__ import annotations

import pytest

from akash_snp.agent.kds_paths import parse_kds_request
from akash_snp.agent.kds_proxy import KdsProxy
from akash_snp.agent.metrics import AgentMetrics
from akash_snp.attest.errors import KdsError
from akash_snp.attest.kds import KdsClient, KdsSettings
from akash_snp.testing.fake_kds import FakeKds


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _proxy(fake_kds: FakeKds, clock: Clock) -> KdsProxy:
    client = KdsClient(KdsSettings(base_url=fake_kds.url, max_attempts=1, deadline=30.0))
    return KdsProxy(client, AgentMetrics(), crl_ttl=600.0, failure_ttl=30.0, clock=clock)


def test_chains_stay_cached_and_crls_expire(fake_kds: FakeKds) -> None:
    clock = Clock()
    proxy = _proxy(fake_kds, clock)
    chain = parse_kds_request("/vcek/v1/Milan/cert_chain", "")
    crl = parse_kds_request("/vcek/v1/Milan/crl", "")
    for _ in range(3):
        proxy.get(chain)
        proxy.get(crl)
    assert sorted(fake_kds.requests) == ["/vcek/v1/Milan/cert_chain", "/vcek/v1/Milan/crl"]
    clock.now += 601
    proxy.get(chain)
    proxy.get(crl)
    assert fake_kds.requests.count("/vcek/v1/Milan/crl") == 2
    assert fake_kds.requests.count("/vcek/v1/Milan/cert_chain") == 1


def test_failures_are_remembered_then_retried(fake_kds: FakeKds) -> None:
    clock = Clock()
    proxy = _proxy(fake_kds, clock)
    chain = parse_kds_request("/vlek/v1/Genoa/cert_chain", "")
    fake_kds.fail_next(404)
    for _ in range(3):
        with pytest.raises(KdsError):
            proxy.get(chain)
    assert len(fake_kds.requests) == 1
    clock.now += 31
    assert proxy.get(chain)
    assert len(fake_kds.requests) == 2
