"""Resilience of a server (webhook or sidecar, any version) to slow and idle connections.

Starts the server command on 127.0.0.1, then for each attack opens the crowd of raw connections
(``akash_snp.testing.hostile.Crowd``), sends normal requests on fresh connections and reports how
many were answered and how fast; then measures SIGTERM with one idle keep-alive connection and
a second start on the busy port. Run from the repository root:

    PYTHONPATH=src/python python3.11 benchmarks/hostile/bench_hostile.py webhook -- \\
        python3.11 -m akash_snp.webhook.main
    PYTHONPATH=src/python python3.11 benchmarks/hostile/bench_hostile.py sidecar -- \\
        python3.11 -m akash_snp.sidecar.main

Server flags of the stack under test go first, with ``=``: ``--extra="--workers 2"``.
"""

from __future__ import annotations

import argparse
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import requests

from akash_snp.testing.hostile import LOOPBACK, Crowd, raise_fd_limit
from akash_snp.testing.waiting import wait_until

ATTACKS = (("slow", 40), ("slow", 1000), ("idle", 16), ("idle", 200), ("idle", 1000))
REQUESTS = 8
REQUEST_TIMEOUT = 5.0
CLOSE_WITHIN = 15.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


class Target:
    """The server under test and how to ask it one normal request."""

    def __init__(self, kind: str, command: list[str], extra: list[str], work: Path) -> None:
        self.kind = kind
        self.port = _free_port()
        self.tls = kind == "webhook"
        if self.tls:
            subprocess.run([*command, "certs", "--out-dir", str(work), "--ip", LOOPBACK],
                           check=True, stdout=subprocess.DEVNULL)  # fmt: skip
            flags = ["--tls-cert", str(work / "tls.crt"), "--tls-key", str(work / "tls.key")]
        else:
            flags = ["--provider", "auto", "--configfs-root", "/nonexistent",
                     "--device", "/nonexistent"]  # fmt: skip
        self.argv = [*command, *flags, "--bind-address", LOOPBACK, *extra]
        review = Path(__file__).parent.parent / "webhook" / "admission-review.json"
        self.body = review.read_bytes()

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        path = "/mutate" if self.tls else "/healthz"
        return f"{scheme}://{LOOPBACK}:{self.port}{path}"

    def start(self, port: int | None = None) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [*self.argv, "--port", str(port or self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def ask(self, session: requests.Session | None = None) -> float | None:
        """Seconds for one normal request (None: failed or timed out)."""
        client = session or requests
        started = time.monotonic()
        try:
            if self.tls:
                reply = client.post(self.url, data=self.body, verify=False, timeout=REQUEST_TIMEOUT)
            else:
                reply = client.get(self.url, timeout=REQUEST_TIMEOUT)
        except requests.RequestException:
            return None
        return time.monotonic() - started if reply.status_code == 200 else None


def _under_attack(target: Target, mode: str, count: int) -> str:
    crowd = Crowd(target.port, count, mode=mode, tls=target.tls, drip=5.0, connect_timeout=2.0)
    with crowd:
        times: list[float] = []
        failures = 0
        for _ in range(REQUESTS):
            took = target.ask()
            if took is None:
                failures += 1
                if failures == 2:
                    break
            else:
                times.append(took)
        started = time.monotonic()
        try:
            wait_until(
                lambda: crowd.closed_by_peer() == count,
                CLOSE_WITHIN,
                "the server to close the crowd",
                interval=0.2,
            )
            closed = f"all closed by the server {time.monotonic() - started:.1f} s later"
        except AssertionError:
            closed = f"{crowd.closed_by_peer()} closed by the server within {CLOSE_WITHIN:g} s"
    answered = f"{len(times)} of {REQUESTS} answered"
    if crowd.handshakes_stalled:
        answered += " (the server stopped completing the attackers' TLS handshakes)"
    if not times:
        return f"{mode:4} x{count:5}: {answered} ({failures} failed/timed out); {closed}"
    return (
        f"{mode:4} x{count:5}: {answered}, p50 {statistics.median(times) * 1000:.1f} ms, "
        f"max {max(times) * 1000:.1f} ms; {closed}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=("webhook", "sidecar"))
    parser.add_argument("--extra", default="", help="extra server flags (space-separated)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    warnings.filterwarnings("ignore", message="Unverified HTTPS request")  # our throw-away CA
    raise_fd_limit(16_384)
    with tempfile.TemporaryDirectory() as temp:
        target = Target(args.kind, command, args.extra.split(), Path(temp))
        server = target.start()
        wait_until(lambda: target.ask() is not None, 60, "the server to answer", interval=0.2)
        for mode, count in ATTACKS:
            print(_under_attack(target, mode, count), flush=True)
            time.sleep(1)
        busy = target.start()
        stderr = busy.communicate(timeout=60)[1].decode()
        print(f"port in use: exit {busy.returncode}, {len(stderr.splitlines())} stderr lines, "
              f"traceback: {'Traceback' in stderr}")  # fmt: skip
        session = requests.Session()
        target.ask(session)
        started = time.monotonic()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
            print(f"SIGTERM with one idle keep-alive connection: exit {server.returncode} after "
                  f"{time.monotonic() - started:.2f} s")  # fmt: skip
        except subprocess.TimeoutExpired:
            server.kill()
            print("SIGTERM with one idle keep-alive connection: still running after 60 s")
        session.close()


if __name__ == "__main__":
    main()
