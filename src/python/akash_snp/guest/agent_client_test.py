"""The sidecar's client of the node agent against small real HTTP servers on loopback that
misbehave in the ways the client must bound: too large, too slow, absent."""

from __future__ import annotations

import time

import pytest

from akash_snp.guest.agent_client import AgentHttp, AgentSettings, parse_agent_url
from akash_snp.guest.provider import GuestError, ProviderUnavailable
from akash_snp.testing.fake_agent import agent_answering


def _http(url: str, **overrides: float) -> AgentHttp:
    return AgentHttp(AgentSettings(url, **overrides))  # type: ignore[arg-type]


def test_any_status_comes_back_with_headers_and_body() -> None:
    with agent_answering(429, b'{"error": "busy"}', {"Retry-After": "7"}) as url:
        status, headers, body = _http(url).get("/v1/verify?nonce=01")
    assert (status, headers["retry-after"], body) == (429, "7", b'{"error": "busy"}')


def test_an_oversized_answer_is_refused() -> None:
    with agent_answering(200, b"x" * 70000) as url, pytest.raises(GuestError) as raised:
        _http(url, max_response_bytes=65536).get("/v1/status")
    assert "over the cap" in str(raised.value)
    assert url in str(raised.value)


def test_slow_agent_hits_the_deadline() -> None:
    started = time.monotonic()
    with agent_answering(200, b"{}", delay=3.0) as url, pytest.raises(
        GuestError, match="timed out|did not answer"
    ):
        _http(url, read_timeout=0.3, deadline=0.5).get("/v1/status")
    assert time.monotonic() - started < 3.0


def test_no_agent_listening_is_unavailable() -> None:
    with agent_answering(200, b"{}") as url:
        pass  # the server is gone: its port refuses
    with pytest.raises(ProviderUnavailable, match="connection refused") as raised:
        _http(url).get("/v1/status")
    assert f"no node attestation agent at {url}" in str(raised.value)


@pytest.mark.parametrize(
    "url", ["https://10.0.0.1:8791", "10.0.0.1:8791", "http://10.0.0.1:8791/?x=1", "http://"]
)
def test_bad_agent_urls(url: str) -> None:
    with pytest.raises(ValueError, match="agent URL"):
        parse_agent_url(url)
