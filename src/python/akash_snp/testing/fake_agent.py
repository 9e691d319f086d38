"""A stand-in for the node agent in tests of its clients: a real HTTP server on loopback that
answers every GET with one status and body, optionally slowly. Not used by the service itself."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def agent_answering(
    status: int,
    body: bytes | Callable[[], bytes],
    headers: dict[str, str] | None = None,
    delay: float = 0.0,
) -> Iterator[str]:
    """A server answering every GET with ``status`` and ``body`` (or what ``body()`` returns at
    that moment); yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            time.sleep(delay)  # a slow agent is the behaviour under test
            try:
                self.wfile.write(body() if callable(body) else body)
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
