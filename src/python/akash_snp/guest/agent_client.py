"""The sidecar's HTTP client of the node attestation agent (``sev-attestation agent``), through
which the agent-mode sidecar relays (``sidecar.relay``).

The agent runs on the pod's node (``http://$(HOST_IP):8791``), so this client is bounded in every
direction: a connect timeout, a read timeout, one overall deadline and a response size cap (an
attestation body is about 16 kB). Failures map onto the provider errors the sidecar already
turns into statuses: no agent listening -> ``ProviderUnavailable``; timeouts, oversized or broken
answers -> ``GuestError`` with a one-line reason that names the agent.
"""

from __future__ import annotations

import errno
import http.client
import json
import math
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from akash_snp.guest.provider import GuestError, ProviderUnavailable

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
    max_response_bytes: int = 256 * 1024
    """An attestation body (report, certificates, checks) is about 16 kB."""


def parse_agent_url(url: str) -> tuple[str, int, str]:
    """``http://host:port[/prefix]`` -> (host, port, prefix); raise ``ValueError`` otherwise."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"the agent URL must look like http://HOST:PORT, got {url!r}")
    if parts.query or parts.fragment or parts.username:
        raise ValueError(f"the agent URL takes no query, fragment or credentials: {url!r}")
    return parts.hostname, parts.port or 80, parts.path.rstrip("/")


class AgentHttp:
    """Bounded GETs to the node agent: it is another process on the node, so neither a hung nor
    a misbehaving one may hold a tenant's request for long or fill the sidecar's memory."""

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
