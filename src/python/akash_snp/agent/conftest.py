"""Fixtures for the agent's real-process tests: a private copy of the recorded emulated Genoa PKI
and a running agent (emulated provider) with a sidecar in ``--provider agent`` mode in front."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from akash_snp.sidecar.harness import SidecarProcess
from akash_snp.testing.fixtures import (  # noqa: F401 (pytest finds fixtures by name)
    emulated_dir,
    emulated_pkis,
    fake_kds,
)


@pytest.fixture(scope="session")
def emulated_pki_dir(emulated_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    directory = tmp_path_factory.mktemp("pki") / "Genoa"
    shutil.copytree(emulated_dir / "pki" / "Genoa", directory)
    return directory


def emulated_agent_flags(pki_dir: Path, *extra: str) -> list[str]:
    """An agent on the emulated provider that trusts the emulated root for its own status."""
    return [
        "--provider", "emulated",
        "--emulated-pki-dir", str(pki_dir),
        "--trust-ark", str(pki_dir / "ark.pem"),
        "--kds-url", "http://127.0.0.1:9",  # never needed unless a test says otherwise
        *extra,
    ]  # fmt: skip


def sidecar_flags(agent_url: str, pki_dir: Path | None = None) -> list[str]:
    """A sidecar as the webhook injects it in agent mode (plus the emulated root, if given)."""
    trust = ["--trust-ark", str(pki_dir / "ark.pem")] if pki_dir else []
    return [
        "--provider=agent",
        f"--agent-url={agent_url}",
        f"--kds-url={agent_url}/kds",
        "--rate", "50", "--burst", "50",
        *trust,
    ]  # fmt: skip


def free_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def agent(emulated_pki_dir: Path) -> Iterator[SidecarProcess]:
    flags = emulated_agent_flags(emulated_pki_dir, "--rate", "100", "--burst", "100")
    with SidecarProcess(flags, subcommand=["agent"]) as process:
        yield process


@pytest.fixture(scope="module")
def sidecar(agent: SidecarProcess, emulated_pki_dir: Path) -> Iterator[SidecarProcess]:
    with SidecarProcess(sidecar_flags(agent.url, emulated_pki_dir)) as process:
        yield process
