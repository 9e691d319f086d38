"""Clients of the node attestation agent (``sev-attestation agent``): ``AgentHttp``, the bounded
GET that the agent-mode sidecar relays through (``sidecar.relay``), and ``AgentSource``, a report
source that sends the verifier's NONCE, never REPORT_DATA, to ``GET <agent>/v1/report``.

The agent runs on the pod's node (``http://$(HOST_IP):8791``), so this client is bounded in every
direction: a connect timeout, a read timeout, one overall deadline and a response size cap (a
report is 1184 bytes, a certificate table a few kB). Answers map onto the provider errors the
sidecar already turns into statuses: no agent listening, or the agent answering 503 (no guest
interface on the node) -> ``ProviderUnavailable``; 429 -> ``RateLimited``; anything else ->
``GuestError`` with a one-line reason that names the agent.
"""

from __future__ import annotations

import base64
import binascii
import errno
import http.client
import json
import math
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from akash_snp.attest.constants import REPORT_SIZE
from akash_snp.guest.guard import TokenBucket
from akash_snp.guest.nonce import NONCE_BINDING
from akash_snp.guest.provider import GuestError, GuestReport, ProviderUnavailable, RateLimited

AGENT_PROVIDERS = frozenset({"configfs-tsm", "ioctl", "emulated"})
_UNREACHABLE = {
    errno.ECONNREFUSED: "connection refused",
    errno.EHOSTUNREACH: "no route to host",
    errno.ENETUNREACH: "network is unreachable",
}


@dataclass(frozen=True)
class AgentSettings:
    """Where the agent is and how long to wait for it. Durations are seconds."""

    url: str
    connect_timeout: float = 2.0
    read_timeout: float = 10.0
    deadline: float = 15.0
    max_response_bytes: int = 64 * 1024
    max_wait: float = 60.0
    """Periodic attestations wait out the agent's Retry-After up to this long in total."""


def parse_agent_url(url: str) -> tuple[str, int, str]:
    """``http://host:port[/prefix]`` -> (host, port, prefix); raise ``ValueError`` otherwise."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"the agent URL must look like http://HOST:PORT, got {url!r}")
    if parts.query or parts.fragment or parts.username:
        raise ValueError(f"the agent URL takes no query, fragment or credentials: {url!r}")
    return parts.hostname, parts.port or 80, parts.path.rstrip("/")


class AgentHttp:
    """Bounded GETs to the node agent, shared by every client of it (``AgentSource``, the
    sidecar's relay): the agent is another process on the node, so neither a hung nor a
    misbehaving one may hold a tenant's request for long or fill the sidecar's memory."""

    def __init__(
        self, settings: AgentSettings, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._settings = settings
        self._host, self._port, self._prefix = parse_agent_url(settings.url)
        self._clock = clock

    @property
    def url(self) -> str:
        return self._settings.url

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        """One bounded GET of ``path`` below the agent's URL: (status, lower-cased headers,
        body). No agent listening -> ``ProviderUnavailable``; a timeout, an oversized or broken
        answer -> ``GuestError``; any HTTP status is returned."""
        settings = self._settings
        end = self._clock() + settings.deadline
        where = f"node attestation agent at {settings.url}"
        connection = http.client.HTTPConnection(
            self._host, self._port, timeout=settings.connect_timeout
        )
        try:
            try:
                connection.connect()
            except OSError as error:
                raise ProviderUnavailable(f"no {where}: {_connect_problem(error)}") from error
            sock = connection.sock
            assert sock is not None
            try:
                sock.settimeout(max(0.001, min(settings.read_timeout, end - self._clock())))
                accept = {"Accept": "application/json"}
                connection.request("GET", self._prefix + path, headers=accept)
                response = connection.getresponse()
                headers = {k.lower(): v for k, v in response.getheaders()}
                declared = int(headers.get("content-length", "0") or 0)
                if declared > settings.max_response_bytes:
                    raise GuestError(f"the {where} sent {declared} bytes, over the cap")
                body = bytearray()
                while len(body) <= settings.max_response_bytes:
                    remaining = end - self._clock()
                    if remaining <= 0:
                        raise GuestError(
                            f"the {where} did not answer within {settings.deadline:g}s"
                        )
                    sock.settimeout(min(settings.read_timeout, remaining))
                    chunk = response.read1(16384)
                    if not chunk:
                        break
                    body += chunk
            except TimeoutError as error:
                raise GuestError(f"the {where} timed out") from error
            except (OSError, http.client.HTTPException, ValueError) as error:
                raise GuestError(f"talking to the {where} failed: {error!r}") from error
            if len(body) > settings.max_response_bytes:
                raise GuestError(
                    f"the {where} sent over {settings.max_response_bytes} bytes, over the cap"
                )
            return response.status, headers, bytes(body)
        finally:
            connection.close()


class AgentSource:
    """``ReportSource`` backed by the node agent; a per-pod token bucket keeps one tenant's
    /verify?nonce calls from spending the whole node's firmware budget."""

    name = "agent"

    def __init__(
        self,
        settings: AgentSettings,
        bucket: TokenBucket,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._http = AgentHttp(settings, clock=clock)
        self._bucket = bucket
        self._lock = threading.Lock()
        self._sleep = sleep

    def nonce_report(self, nonce: bytes, wait: bool) -> GuestReport:
        waited = 0.0
        while True:
            try:
                self._take_token()
                return self._request(nonce)
            except RateLimited as refused:
                if not wait or waited + refused.retry_after > self._settings.max_wait:
                    raise
                self._sleep(refused.retry_after)
                waited += refused.retry_after

    def periodic_report(self, stamp: str, wait: bool) -> tuple[GuestReport, str]:
        """The agent accepts nonces only, so the periodic report commits to a fresh random one."""
        nonce = secrets.token_bytes(32)
        got = self.nonce_report(nonce, wait)
        return got, f"periodic: random nonce {nonce.hex()}; {NONCE_BINDING}"

    def _take_token(self) -> None:
        with self._lock:
            delay = self._bucket.take()
        if delay > 0:
            raise RateLimited(delay)

    def _request(self, nonce: bytes) -> GuestReport:
        status, headers, body = self._http.get(f"/v1/report?nonce={nonce.hex()}")
        if status == 200:
            return self._report(body)
        reason = error_text(body)
        if status == 503:
            raise ProviderUnavailable(f"node attestation agent at {self._settings.url}: {reason}")
        if status == 429:
            raise RateLimited(retry_after(headers.get("retry-after", "")))
        raise GuestError(
            f"node attestation agent at {self._settings.url} answered HTTP {status}: {reason}"
        )

    def _report(self, body: bytes) -> GuestReport:
        where = f"node attestation agent at {self._settings.url}"
        try:
            answer: Any = json.loads(body)
            report = base64.b64decode(answer["report"], validate=True)
            table = base64.b64decode(answer.get("cert_table") or "", validate=True)
            provider = answer["provider"]
        except (ValueError, KeyError, TypeError, binascii.Error) as error:
            raise GuestError(f"the {where} sent an unusable answer: {error!r}") from error
        if len(report) != REPORT_SIZE:
            raise GuestError(f"the {where} sent a {len(report)}-byte report, not {REPORT_SIZE}")
        if provider not in AGENT_PROVIDERS:
            raise GuestError(f"the {where} names an unknown provider {str(provider)[:40]!r}")
        return GuestReport(report, table, f"agent/{provider}")


def _connect_problem(error: OSError) -> str:
    if isinstance(error, socket.gaierror):
        return f"cannot resolve the host ({error.strerror})"
    if isinstance(error, TimeoutError):
        return "connection timed out"
    return _UNREACHABLE.get(error.errno or 0, error.strerror or repr(error))


def error_text(body: bytes) -> str:
    """The agent's JSON ``error`` on one line, or a short excerpt of whatever came back."""
    try:
        answer = json.loads(body)
        text = str(answer["error"]) if isinstance(answer, dict) else str(answer)
    except (ValueError, KeyError):
        text = body[:200].decode("utf-8", "replace") or "no error message"
    return " ".join(text.split())[:300]


def retry_after(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        return 1.0
    return seconds if math.isfinite(seconds) and seconds > 0 else 1.0
