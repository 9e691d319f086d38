"""The relay's mapping of the agent's answers, against small real HTTP servers on loopback (the
real agent behind a real relay is in agent/process_test.py)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from akash_snp.attestation.metrics import AttestationMetrics
from akash_snp.guest.agent_client import AgentHttp, AgentSettings
from akash_snp.guest.guard import TokenBucket
from akash_snp.guest.provider import RateLimited
from akash_snp.sidecar.relay import RelayBackend
from akash_snp.testing.fake_agent import agent_answering
from akash_snp.testing.waiting import wait_until

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
VERIFIED = {"attestation_status": "verified", "nonce": "01", "provider": "emulated"}


def _relay(url: str, burst: int = 100, ttl: float = 5.0) -> RelayBackend:
    http = AgentHttp(AgentSettings(url))
    return RelayBackend(http, TokenBucket(0.001, burst), AttestationMetrics(), lambda: NOW, ttl=ttl)


def test_a_verified_answer_passes_through_unchanged() -> None:
    body = json.dumps(VERIFIED).encode()
    with agent_answering(200, body) as url:
        relay = _relay(url)
        assert relay.fresh_body(b"\x01") == body
        assert relay.periodic_body() == body
        assert relay.attestation_status() == "verified"


@pytest.mark.parametrize(
    ("status", "body", "outcome", "message"),
    [
        (503, b'{"error": "no SEV-SNP guest interface"}', "unavailable", "no SEV-SNP guest"),
        (500, b'{"error": "firmware\\nsaid no"}', "failed", "answered HTTP 500: firmware said no"),
        (502, b"<html>bad gateway</html>", "failed", "answered HTTP 502: <html>bad gateway</html>"),
        (200, b"not json", "failed", "unusable answer"),
        (200, json.dumps({**VERIFIED, "nonce": "02"}).encode(), "failed", "another nonce"),
    ],
)
def test_agent_failures_become_a_status_with_the_reason(
    status: int, body: bytes, outcome: str, message: str
) -> None:
    with agent_answering(status, body) as url:
        answer = json.loads(_relay(url).fresh_body(b"\x01"))
    assert answer["attestation_status"] == outcome
    assert message in answer["verification_output"]
    assert f"node attestation agent at {url}" in answer["verification_output"]
    assert answer["nonce"] == "01"
    assert answer["provider"] == "agent"
    assert answer["what_this_proves"]


def test_the_agents_429_is_the_relays() -> None:
    busy = agent_answering(429, b'{"error": "busy"}', {"Retry-After": "7"})
    with busy as url, pytest.raises(RateLimited) as refused:
        _relay(url).fresh_body(b"\x01")
    assert refused.value.retry_after == 7.0


def test_the_pods_bucket_refuses_before_asking_the_agent() -> None:
    with agent_answering(200, json.dumps(VERIFIED).encode()) as url:
        relay = _relay(url, burst=1)
        relay.fresh_body(b"\x01")
        with pytest.raises(RateLimited):
            relay.fresh_body(b"\x01")


def test_the_status_is_cached_for_the_ttl() -> None:
    first = json.dumps({"attestation_status": "verified"}).encode()
    with agent_answering(200, first) as url:
        relay = _relay(url, ttl=60)
        assert relay.periodic_body() == first
    # the agent is gone, but the cached status is still fresh
    assert relay.periodic_body() == first
    expired = _relay(url, ttl=0)
    assert not expired.periodic_at_hand()
    assert json.loads(expired.periodic_body())["attestation_status"] == "unavailable"
    assert expired.attestation_status() == "unavailable"
    assert expired.periodic_at_hand()


def test_an_expired_status_is_served_while_a_slow_agent_is_asked_again() -> None:
    """Stale-while-revalidate: after the TTL the previous answer comes back at once (the request
    never waits for the agent, so it can be served on the event loop), and the refreshed one
    replaces it when the agent answers."""
    first = json.dumps({"attestation_status": "verified"}).encode()
    second = json.dumps({"attestation_status": "failed"}).encode()
    answers = [first]
    with agent_answering(200, lambda: answers[-1], delay=0.3) as url:
        relay = _relay(url, ttl=0.2)
        assert relay.periodic_body() == first
        answers.append(second)
        time.sleep(0.3)  # past the TTL: the behaviour under test
        started = time.monotonic()
        assert relay.periodic_body() == first  # stale, at once, while the agent is asked
        assert time.monotonic() - started < 0.2
        wait_until(lambda: relay.periodic_body() == second, 5, "the refreshed status")
