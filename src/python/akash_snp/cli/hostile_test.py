"""``snp-verify`` against hostile providers and inputs (issue 13, rows 4-7).

Each case runs the real command in a subprocess, so that its exit status, its stderr and its
peak memory (``ru_maxrss`` from ``wait4``) are its own. Servers listen on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from akash_snp.cli.main import main

# The interpreter, cryptography and requests take about 60 MiB; 1 GB bodies must not add to it.
MAX_RSS_KIB = 150 * 1024


@dataclass(frozen=True)
class Run:
    code: int
    stderr: str
    seconds: float
    max_rss_kib: int


def snp_verify(*argv: str) -> Run:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "akash_snp.cli.main", *argv],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    stderr = process.stderr.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return Run(process.returncode, stderr, time.monotonic() - started, usage.ru_maxrss)


def _one_clean_line(run: Run) -> str:
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "Traceback" not in run.stderr
    return lines[0]


class Provider:
    """A local "sidecar" whose /verify answer is written by ``respond(handler)``."""

    def __init__(self, respond: Callable[[BaseHTTPRequestHandler], None]) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with contextlib.suppress(OSError):  # the client gave up: that is the point
                    respond(self)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/verify"

    def __enter__(self) -> Provider:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _headers(handler: BaseHTTPRequestHandler, length: int | None = None) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    if length is not None:
        handler.send_header("Content-Length", str(length))
    handler.end_headers()


def _stream_a_gigabyte(handler: BaseHTTPRequestHandler) -> None:
    _headers(handler)  # no Content-Length: the body ends when the connection does
    chunk = b" " * (1024 * 1024)
    for _ in range(1024):
        handler.wfile.write(chunk)


def _drip(handler: BaseHTTPRequestHandler) -> None:
    _headers(handler, 1_000_000)
    for _ in range(120):
        handler.wfile.write(b" ")
        handler.wfile.flush()
        time.sleep(1)  # the slow server under test: one byte a second


def _nested(handler: BaseHTTPRequestHandler) -> None:
    body = b"[" * 200_000 + b"]" * 200_000
    _headers(handler, len(body))
    handler.wfile.write(body)


@pytest.fixture()
def provider(request: pytest.FixtureRequest) -> Iterator[Provider]:
    with Provider(request.param) as server:
        yield server


@pytest.mark.parametrize("provider", [_stream_a_gigabyte], indirect=True)
def test_a_gigabyte_answer_is_refused_early_with_little_memory(provider: Provider) -> None:
    """Row 4."""
    run = snp_verify("url", provider.url, "--offline", "--timeout", "30")
    assert run.code == 2
    assert "sent more than 1048576 bytes" in _one_clean_line(run)
    assert run.max_rss_kib < MAX_RSS_KIB
    assert run.seconds < 20


@pytest.mark.parametrize("provider", [_drip], indirect=True)
def test_a_dripping_answer_ends_at_the_overall_deadline(provider: Provider) -> None:
    """Row 5: one byte per second never trips a per-read timeout; the overall deadline does."""
    run = snp_verify("url", provider.url, "--offline", "--timeout", "3")
    assert run.code == 2
    assert "no complete answer" in _one_clean_line(run)
    assert run.seconds < 15


@pytest.mark.parametrize("provider", [_nested], indirect=True)
def test_deeply_nested_json_is_an_unusable_answer(provider: Provider) -> None:
    """Row 6."""
    run = snp_verify("url", provider.url, "--offline", "--timeout", "30")
    assert run.code == 2
    assert "nested too deeply" in _one_clean_line(run)


@pytest.mark.parametrize("flag", ["--report", "--certs"])
def test_endless_inputs_are_refused(flag: str, tmp_path: Path) -> None:
    """Row 7: ``/dev/zero`` as the report or as a certificate file."""
    report = tmp_path / "report.bin"
    report.write_bytes(bytes(1184))
    argv = ["report", "--report", str(report), "--offline", flag, "/dev/zero"]
    run = snp_verify(*argv)
    assert run.code == 2
    assert "is larger than" in _one_clean_line(run)
    assert run.max_rss_kib < MAX_RSS_KIB
    assert run.seconds < 20


def test_a_50_mb_report_is_refused_without_reading_it_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Row 7: a 50 MB file given as the report (in-process: the file is not read whole)."""
    big = tmp_path / "big.bin"
    with big.open("wb") as out:
        out.truncate(50 * 1024 * 1024)
    assert main(["report", "--report", str(big), "--offline"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "report" in err
    assert "is larger than 4736 bytes" in err
