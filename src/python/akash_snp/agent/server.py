"""How the agent serves HTTP: waitress, sized for a node's worth of pods, in one place so it can
be unified with the sidecar's and webhook's server set-up later.

Every pod on the node talks to this one process (reports, KDS through the proxy), so it accepts
many more connections than waitress's default of 100 and drops idle ones quickly. waitress's
default ``select`` loop cannot watch more than 1024 sockets, hence ``poll``; and the soft file
descriptor limit is raised to the hard one so the connection limit can actually be reached.
"""

from __future__ import annotations

import resource
import signal
import threading
from collections.abc import Callable
from types import FrameType

import waitress
from flask import Flask

CONNECTION_LIMIT = 4096
CHANNEL_TIMEOUT_SECONDS = 15
BACKLOG = 2048


def _raise_open_file_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def serve_until_signalled(
    app: Flask,
    host: str,
    port: int,
    threads: int,
    on_listening: Callable[[int], None],
) -> None:
    """Serve ``app`` until SIGTERM/SIGINT (or the server dies); ``on_listening`` gets the port."""
    _raise_open_file_limit(CONNECTION_LIMIT + 256)
    server = waitress.create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        connection_limit=CONNECTION_LIMIT,
        channel_timeout=CHANNEL_TIMEOUT_SECONDS,
        backlog=BACKLOG,
        asyncore_use_poll=True,
        ident="sev-attestation-agent",
    )
    # waitress's loop swallows exceptions raised inside it, so it runs in a thread and this one
    # waits for a signal or for that thread to end.
    stopping = threading.Event()

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    def serve() -> None:
        try:
            server.run()
        finally:
            stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=serve, name="http", daemon=True).start()
    on_listening(int(server.effective_port))
    stopping.wait()
    server.close()
    server.task_dispatcher.shutdown(timeout=2)
