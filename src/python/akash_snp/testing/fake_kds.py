"""A fake AMD KDS: a real HTTP server on 127.0.0.1 serving the emulated PKI.

Serves ``/vcek/v1/<Product>/<hwid>?...SPL=``, ``/{vcek,vlek}/v1/<Product>/cert_chain`` and
``/{vcek,vlek}/v1/<Product>/crl`` like KDS (VCEK spec). Tests script misbehaviour (429, 500, slow
answers) with ``fail_next`` and ``delay`` and read ``requests`` to prove caching. ``static`` maps
paths to fixed bodies (real AMD chains read at test time), served before the emulated PKI.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from akash_snp.attest.constants import CHIP_ID_SIZE, Product, parse_product
from akash_snp.attest.errors import AttestError
from akash_snp.attest.tcb import TcbVersion
from akash_snp.emulation.pki import EmulatedAmd


class FakeKds:
    """The server's state: the PKIs it serves, scripted failures, a delay and a request log."""

    def __init__(
        self, pkis: Mapping[Product, EmulatedAmd], static: Mapping[str, bytes] | None = None
    ) -> None:
        self.pkis = dict(pkis)
        self.static = dict(static or {})
        self.requests: list[str] = []
        self.delay = 0.0
        self._failures: deque[tuple[int, str | None]] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake KDS is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def fail_next(self, status: int, count: int = 1, retry_after: str | None = None) -> None:
        """Answer the next ``count`` requests with ``status`` (e.g. 429 or 500)."""
        with self._lock:
            self._failures.extend([(status, retry_after)] * count)

    def start(self) -> None:
        state = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # (http.server naming)
                state._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.requests.append(handler.path)
            failure = self._failures.popleft() if self._failures else None
        if self.delay:
            time.sleep(self.delay)  # a slow KDS is the behaviour under test
        if failure is not None:
            status, retry_after = failure
            handler.send_response(status)
            if retry_after is not None:
                handler.send_header("Retry-After", retry_after)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        try:
            status, content_type, body = self._route(handler.path)
        except (AttestError, ValueError, KeyError) as error:
            status, content_type, body = 404, "text/plain", str(error).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            return  # the client gave up (timeouts are part of the tests)

    def _route(self, path: str) -> tuple[int, str, bytes]:
        if path in self.static:
            return 200, "application/octet-stream", self.static[path]
        parts = urlsplit(path)
        segments = parts.path.strip("/").split("/")
        if len(segments) != 4 or segments[0] not in ("vcek", "vlek") or segments[1] != "v1":
            return 404, "text/plain", b"not found"
        kind, _, product_name, leaf = segments
        pki = self.pkis[parse_product(product_name)]
        if leaf == "cert_chain":
            return 200, "application/x-pem-file", pki.chain_pem(kind)
        if leaf == "crl":
            return 200, "application/pkix-crl", pki.crl_der()
        if kind != "vcek":
            return 404, "text/plain", b"VLEKs are not served by KDS"
        query = {k: int(v[0]) for k, v in parse_qs(parts.query).items()}
        hwid = bytes.fromhex(leaf)
        if len(hwid) != CHIP_ID_SIZE[pki.product]:
            return 400, "text/plain", b"bad hwid length"
        tcb = TcbVersion(
            bootloader=query["blSPL"],
            tee=query["teeSPL"],
            snp=query["snpSPL"],
            microcode=query["ucodeSPL"],
            fmc=query.get("fmcSPL", 0),
        )
        return 200, "application/octet-stream", pki.vcek_der(hwid.ljust(64, b"\0"), tcb)


@contextmanager
def running_fake_kds(
    pkis: Mapping[Product, EmulatedAmd], static: Mapping[str, bytes] | None = None
) -> Iterator[FakeKds]:
    """Start a fake KDS for the duration of a ``with`` block."""
    server = FakeKds(pkis, static)
    server.start()
    try:
        yield server
    finally:
        server.stop()
