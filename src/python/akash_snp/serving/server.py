"""Serve an application on a bound socket with hypercorn until SIGTERM or SIGINT.

Why hypercorn: it parses HTTP on an asyncio event loop, so an idle or slow connection costs a
coroutine and a file descriptor, not a thread; it bounds every phase of a connection (TLS
handshake, request head, each read) and, on shutdown, stops listening, closes idle keep-alive
connections at once and lets in-flight requests finish. The comparison with gunicorn and waitress
is in ``benchmarks/hostile/README.md``.

Why uvloop under it: its event loop, transports and TLS are compiled (libuv), which cuts the
server's CPU per request by about a quarter against asyncio's pure-Python ones; at 500 admissions
/s on two shared vCPUs that is the difference in the latency tail (``benchmarks/webhook``).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import socket
import ssl
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import uvloop
from hypercorn.asyncio.run import worker_serve
from hypercorn.config import Config, Sockets
from hypercorn.typing import AppWrapper

_LOG = logging.getLogger("akash_snp.serving")


@dataclass(frozen=True)
class Limits:
    """Deadlines (seconds) and sizes that bound what one connection can hold."""

    handshake: float = 5.0
    """TLS handshake, from accept."""
    idle: int = 10
    """A complete request head, counted from the handshake or from the previous answer."""
    read: int = 15
    """Each read while a request (its body) is arriving."""
    drain: float = 0.0
    """After SIGTERM, seconds to keep serving before stopping, every answer closing its
    connection: in Kubernetes the endpoints controller and kube-proxy need that long to stop
    sending new connections, and a client that reuses a kept-alive connection while the server
    closes it gets EOF (an API server then rejects the admission)."""
    graceful: float = 10.0
    """In-flight requests after the drain; idle connections are closed at once."""
    tls_close: float = 0.5
    """The client's answer to our TLS close_notify when we close a connection."""
    max_header_bytes: int = 16 * 1024
    max_requests_per_connection: int = 100_000


class _Config(Config):
    """hypercorn settings whose TLS context comes from the caller (e.g. a reloading one)."""

    def __init__(self, tls: ssl.SSLContext | None) -> None:
        super().__init__()
        self._tls = tls
        if tls is not None:  # hypercorn enables TLS when both are set; the context is ours
            self.certfile = self.keyfile = "(provided context)"

    def create_ssl_context(self) -> ssl.SSLContext | None:
        return self._tls


def _config(tls: ssl.SSLContext | None, limits: Limits) -> _Config:
    config = _Config(tls)
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    config.include_server_header = False
    config.ssl_handshake_timeout = limits.handshake
    config.keep_alive_timeout = limits.idle
    config.read_timeout = limits.read
    config.graceful_timeout = limits.graceful
    config.h11_max_incomplete_size = limits.max_header_bytes
    config.keep_alive_max_requests = limits.max_requests_per_connection
    return config


class _Loop(uvloop.Loop):
    """An event loop whose TLS servers wait only ``tls_close`` seconds for a closing handshake.

    The loop waits up to 30 s for the client's close_notify after the server closes a TLS
    connection, and hypercorn gives it no say in that. An idle keep-alive client (it reads
    nothing until its next request) never answers, so every idle connection closed at SIGTERM
    would hold the shutdown for 30 s.
    """

    def __init__(self, tls_close: float) -> None:
        super().__init__()
        self._tls_close = tls_close

    async def create_server(  # type: ignore[override]  # passes any arguments through
        self, *args: Any, **kwargs: Any
    ) -> asyncio.AbstractServer:
        if kwargs.get("ssl") is not None:
            kwargs.setdefault("ssl_shutdown_timeout", self._tls_close)
        return await super().create_server(*args, **kwargs)


def _quiet(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """One short line for errors raised outside a request (a client's broken handshake, ...).

    asyncio's default handler logs a traceback for each: a hostile client could flood the log.
    """
    error = context.get("exception")
    level = logging.DEBUG if isinstance(error, OSError) else logging.WARNING
    _LOG.log(level, "connection error", extra={"error": repr(error or context.get("message"))})


class _ClosingWhileDraining:
    """The application, whose answers carry ``Connection: close`` once ``draining`` is set: the
    client then closes the connection itself after reading the answer, and its next request
    opens a new one, which goes to a replica that is not stopping."""

    def __init__(self, app: AppWrapper, draining: asyncio.Event) -> None:
        self._app = app
        self._draining = draining

    async def __call__(
        self,
        scope: Any,
        receive: Any,
        send: Callable[[Any], Awaitable[None]],
        sync_spawn: Any,
        call_soon: Any,
    ) -> None:
        async def closing(message: Any) -> None:
            if self._draining.is_set() and message.get("type") == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await self._app(scope, receive, closing, sync_spawn, call_soon)


def _tune_gc() -> None:
    """Move start-up objects out of the collector's sight and collect the young less often.

    Each admission allocates thousands of short-lived objects (JSON); with the default threshold
    (700) the young generation is collected several times per request and full collections walk
    every module object loaded at start. Frozen start-up objects and a higher threshold cut the
    CPU per request by about a quarter (see benchmarks/webhook/README.md).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


async def _serve(
    app: AppWrapper,
    sock: socket.socket,
    tls: ssl.SSLContext | None,
    limits: Limits,
    threads: int | None,
) -> None:
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(_quiet)
    if threads is not None:
        loop.set_default_executor(ThreadPoolExecutor(threads, thread_name_prefix="http"))
    stop = asyncio.Event()
    draining = asyncio.Event()

    def on_signal(signum: signal.Signals) -> None:
        if limits.drain > 0 and not draining.is_set():
            _LOG.info("draining", extra={"signal": signum.name, "seconds": limits.drain})
            draining.set()
            loop.call_later(limits.drain, stop.set)
            return
        _LOG.info("stopping", extra={"signal": signum.name})
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    sockets = Sockets([sock], [], []) if tls is not None else Sockets([], [sock], [])
    served = _ClosingWhileDraining(app, draining)
    await worker_serve(served, _config(tls, limits), sockets=sockets, shutdown_trigger=stop.wait)


def serve(
    app: AppWrapper,
    sock: socket.socket,
    *,
    tls: ssl.SSLContext | None = None,
    limits: Limits | None = None,
    threads: int | None = None,
) -> None:
    """Serve ``app`` on the listening ``sock`` until SIGTERM/SIGINT, then shut down gracefully.

    ``threads`` sizes the pool that threaded WSGI handlers run in (``wsgi.threaded``).
    """
    limits = limits or Limits()
    _tune_gc()
    # (not asyncio.Runner, which is 3.11+: the sidecar also runs under the tenant CLI's tests on
    # CPython 3.10, build-support/check-cli-pythons.sh)
    loop = _Loop(limits.tls_close)
    try:
        loop.run_until_complete(_serve(app, sock, tls, limits, threads))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()
