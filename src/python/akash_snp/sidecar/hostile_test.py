"""The real sidecar process under hostile connections (issue 13, rows 3, 9, 10, 11).

Loopback only. The sidecar runs without a guest interface (status "unavailable"), which starts
fast and serves the same HTTP paths as a real one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from akash_snp.testing.hostile import LOOPBACK, Crowd, raise_fd_limit
from akash_snp.testing.sidecar_process import SidecarProcess
from akash_snp.testing.waiting import wait_until

CROWD = 1000
# Includes accepting the crowd's backlog when the request follows it at once.
ANSWER_WITHIN_SECONDS = 2.0


def _flags(tmp: Path) -> list[str]:
    return ["--provider", "auto", "--configfs-root", str(tmp / "no-tsm"),
            "--device", str(tmp / "no-sev-guest")]  # fmt: skip


@pytest.fixture()
def sidecar(tmp_path: Path) -> Iterator[SidecarProcess]:
    raise_fd_limit(8 * CROWD)
    with SidecarProcess(_flags(tmp_path)) as process:
        yield process


def _served_quickly(url: str, count: int = 8) -> None:
    for _ in range(count):
        started = time.monotonic()
        reply = requests.get(url, timeout=10)
        elapsed = time.monotonic() - started
        assert reply.status_code == 200
        assert elapsed < ANSWER_WITHIN_SECONDS, f"{url} took {elapsed:.2f} s"


@pytest.mark.parametrize("mode", ["slow", "idle"])
def test_a_thousand_slow_or_idle_connections_do_not_block_healthz(
    sidecar: SidecarProcess, mode: str
) -> None:
    """Row 3: partial-header (and idle) connections beyond waitress's old limit of 100."""
    with Crowd(sidecar.port, CROWD, mode=mode, drip=1.0) as crowd:
        _served_quickly(f"{sidecar.url}/healthz")
        _served_quickly(f"{sidecar.url}/verify", count=2)
        wait_until(
            lambda: crowd.closed_by_peer() == CROWD, timeout=40, what="the crowd to be closed"
        )
    _served_quickly(f"{sidecar.url}/healthz", count=2)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("nonce=ab%20cd", "not hexadecimal"),
        ("nonce=ab+cd", "not hexadecimal"),
        ("NONCE=abcd", "unknown query parameter(s): 'NONCE'"),
        ("nonce[]=abcd", "unknown query parameter(s): 'nonce[]'"),
        ("nonce=ab&extra=1", "unknown query parameter(s): 'extra'"),
    ],
)
def test_query_strings_are_strict(sidecar: SidecarProcess, query: str, message: str) -> None:
    """Row 9: whitespace in a nonce, and misspelled parameters."""
    reply = requests.get(f"{sidecar.url}/verify?{query}", timeout=10)
    assert reply.status_code == 400
    assert message in reply.json()["error"]


@pytest.mark.parametrize("length", [10_000, 100_000])
def test_long_paths_are_never_echoed(sidecar: SidecarProcess, length: int) -> None:
    """Row 9: a 404 for a huge path (over the 16 KiB head limit: refused before the app)."""
    reply = requests.get(f"{sidecar.url}/{'a' * length}", timeout=10)
    assert reply.status_code in (404, 414, 431)
    assert len(reply.content) < 300


def test_port_in_use_is_one_line_and_exit_2(sidecar: SidecarProcess, tmp_path: Path) -> None:
    """Row 10."""
    command = [sys.executable, "-m", "akash_snp.sidecar.main", "--bind-address", LOOPBACK,
               "--port", str(sidecar.port), *_flags(tmp_path)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "cannot listen on 127.0.0.1" in json.loads(lines[0])["message"]


def test_sigterm_with_an_idle_keep_alive_connection_stops_at_once(
    sidecar: SidecarProcess,
) -> None:
    """Row 11, for the sidecar."""
    session = requests.Session()
    assert session.get(f"{sidecar.url}/healthz", timeout=10).ok
    started = time.monotonic()
    os.kill(sidecar.pid, signal.SIGTERM)
    wait_until(
        lambda: any('"stopped"' in line for line in sidecar.logs),
        timeout=10,
        what="the sidecar to log that it stopped",
    )
    assert time.monotonic() - started < 2.0
    session.close()
