"""Start a real ``sev-attestation`` process on loopback and find its port: used by the tests of
the sidecar and of ``snp-verify url``, and by the benchmark. Not used by the service itself.

The process is started with ``--port 0``; the port is read from its JSON "listening" log line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType


class SidecarProcess:
    """``with SidecarProcess([...flags]) as sidecar: sidecar.url`` -- stopped with SIGTERM.
    ``subcommand=["agent"]`` starts the node attestation agent instead."""

    def __init__(
        self,
        flags: Sequence[str],
        startup_timeout: float = 60.0,
        subcommand: Sequence[str] = (),
    ) -> None:
        self._flags = list(flags)
        self._subcommand = list(subcommand)
        self._timeout = startup_timeout
        self.logs: list[str] = []
        self.port = 0
        self.returncode: int | None = None
        self._process: subprocess.Popen[str] | None = None
        self._listening = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def __enter__(self) -> SidecarProcess:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "akash_snp.sidecar.main",
                *self._subcommand,
                "--bind-address",
                "127.0.0.1",
                "--port",
                "0",
                *self._flags,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).parent,
        )
        threading.Thread(target=self._drain, daemon=True).start()
        deadline = time.monotonic() + self._timeout
        while not self._listening.wait(0.05):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(
                    "sidecar did not start listening; its log:\n" + "\n".join(self.logs)
                )
        return self

    def _drain(self) -> None:
        assert self._process is not None
        assert self._process.stderr is not None
        for line in self._process.stderr:
            self.logs.append(line.rstrip("\n"))
            if not self._listening.is_set():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if entry.get("message") == "listening":
                    self.port = int(entry["port"])
                    self._listening.set()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
        try:
            self.returncode = self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self.returncode = self._process.wait()
