"""One HTTP GET whose answer is bounded in size and in total time.

``requests`` applies its timeout to each socket read, so a server that drips a byte per second
(in the headers or the body) would keep the caller waiting forever, and a streamed body is read
whole into memory. Here the body is read in chunks up to ``limit`` bytes, without content
decoding (no decompression bomb), and the whole exchange runs in a daemon thread that the caller
stops waiting for at the deadline.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import requests

_CHUNK = 64 * 1024


class DownloadError(Exception):
    """No usable answer: unreachable, too slow, or too large."""


@dataclass(frozen=True)
class Answer:
    """Status, the headers the caller uses, and the raw body."""

    status: int
    retry_after: str | None
    body: bytes


def _get(url: str, params: dict[str, str], timeout: float, limit: int) -> Answer:
    headers = {"Accept-Encoding": "identity"}
    try:
        with requests.get(url, params=params, headers=headers, timeout=timeout, stream=True) as r:
            declared = r.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                raise DownloadError(f"{url} announced {declared} bytes; the limit is {limit}")
            body = bytearray()
            for chunk in r.raw.stream(_CHUNK, decode_content=False):
                body += chunk
                if len(body) > limit:
                    raise DownloadError(f"{url} sent more than {limit} bytes")
            return Answer(r.status_code, r.headers.get("Retry-After"), bytes(body))
    except requests.RequestException as error:
        raise DownloadError(f"could not reach {url}: {error}") from error


def get(url: str, params: dict[str, str], *, deadline: float, limit: int) -> Answer:
    """GET ``url``; the full answer must arrive within ``deadline`` seconds and ``limit`` bytes.

    On time-out the worker thread is abandoned (a daemon: it ends with the process or when the
    server closes the connection).
    """
    outcome: list[Answer | Exception] = []

    def work() -> None:
        try:
            outcome.append(_get(url, params, deadline, limit))
        except (DownloadError, OSError, ValueError) as error:
            outcome.append(error)

    worker = threading.Thread(target=work, name="download", daemon=True)
    worker.start()
    worker.join(deadline)
    if not outcome:
        raise DownloadError(f"no complete answer from {url} within {deadline:g} s")
    result = outcome[0]
    if isinstance(result, DownloadError):
        raise result
    if isinstance(result, Exception):
        raise DownloadError(f"could not read the answer of {url}: {result}") from result
    return result
