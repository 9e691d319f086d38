"""The sidecar's client of the node agent against small real HTTP servers on loopback that
misbehave in the ways the client must bound: too large, too slow, malformed, errors."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from akash_snp.guest.agent_client import AgentSettings, AgentSource, parse_agent_url
from akash_snp.guest.guard import TokenBucket
from akash_snp.guest.provider import GuestError, ProviderUnavailable, RateLimited

GOOD = {"report": base64.b64encode(bytes(1184)).decode(), "cert_table": "", "provider": "ioctl"}


@contextmanager
def agent_answering(
    status: int, body: bytes, headers: dict[str, str] | None = None, delay: float = 0.0
) -> Iterator[str]:
    """A server answering every GET with ``status`` and ``body``; yields its base URL."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            time.sleep(delay)
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                return

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _source(url: str, **overrides: float) -> AgentSource:
    return AgentSource(AgentSettings(url, **overrides), TokenBucket(100, 100))  # type: ignore[arg-type]


def test_a_good_answer() -> None:
    with agent_answering(200, json.dumps(GOOD).encode()) as url:
        got = _source(url).nonce_report(b"\x01\x02", wait=False)
    assert got.report == bytes(1184)
    assert got.provider == "agent/ioctl"


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (200, b"x" * 70000, "over the cap"),
        (200, b"not json", "unusable answer"),
        (200, json.dumps({**GOOD, "report": "AAAA"}).encode(), "3-byte report"),
        (200, json.dumps({**GOOD, "provider": "other"}).encode(), "unknown provider"),
        (500, b'{"error": "firmware\\nsaid no"}', "answered HTTP 500: firmware said no"),
        (502, b"<html>bad gateway</html>", "answered HTTP 502: <html>bad gateway</html>"),
    ],
)
def test_bad_answers_are_guest_errors(status: int, body: bytes, message: str) -> None:
    with agent_answering(status, body) as url, pytest.raises(GuestError, match=message) as raised:
        _source(url).nonce_report(b"\x01", wait=False)
    assert not isinstance(raised.value, ProviderUnavailable)
    assert url in str(raised.value)


def test_slow_agent_hits_the_deadline() -> None:
    started = time.monotonic()
    with agent_answering(200, json.dumps(GOOD).encode(), delay=3.0) as url, pytest.raises(
        GuestError, match="timed out|did not answer"
    ):
        _source(url, read_timeout=0.3, deadline=0.5).nonce_report(b"\x01", wait=False)
    assert time.monotonic() - started < 3.0


def test_503_is_unavailable_and_429_is_rate_limited() -> None:
    unavailable = agent_answering(503, b'{"error": "no SEV-SNP guest interface"}')
    with unavailable as url, pytest.raises(ProviderUnavailable, match="no SEV-SNP guest"):
        _source(url).nonce_report(b"\x01", wait=False)
    busy = agent_answering(429, b'{"error": "busy"}', {"Retry-After": "7"})
    with busy as url, pytest.raises(RateLimited) as refused:
        _source(url).nonce_report(b"\x01", wait=False)
    assert refused.value.retry_after == 7.0


def test_the_per_pod_bucket_refuses_before_asking_the_agent() -> None:
    with agent_answering(200, json.dumps(GOOD).encode()) as url:
        source = AgentSource(AgentSettings(url), TokenBucket(0.001, 1))
        source.nonce_report(b"\x01", wait=False)
        with pytest.raises(RateLimited):
            source.nonce_report(b"\x01", wait=False)


@pytest.mark.parametrize(
    "url", ["https://10.0.0.1:8791", "10.0.0.1:8791", "http://10.0.0.1:8791/?x=1", "http://"]
)
def test_bad_agent_urls(url: str) -> None:
    with pytest.raises(ValueError, match="agent URL"):
        parse_agent_url(url)
