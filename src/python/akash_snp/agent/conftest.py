"""Fixtures for the agent's real-process tests: a private copy of the recorded emulated Genoa PKI
and a running agent (emulated provider) with a sidecar in ``--provider agent`` mode in front."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from akash_snp.testing.agent_process import emulated_agent_flags, sidecar_flags
from akash_snp.testing.fixtures import (  # noqa: F401 (pytest finds fixtures by name)
    emulated_dir,
    emulated_pki_dir,
    emulated_pkis,
    fake_kds,
)
from akash_snp.testing.sidecar_process import SidecarProcess


@pytest.fixture(scope="module")
def agent(emulated_pki_dir: Path) -> Iterator[SidecarProcess]:  # noqa: F811
    flags = emulated_agent_flags(emulated_pki_dir, "--rate", "100", "--burst", "100")
    with SidecarProcess(flags, subcommand=["agent"]) as process:
        yield process


@pytest.fixture(scope="module")
def sidecar(agent: SidecarProcess, emulated_pki_dir: Path) -> Iterator[SidecarProcess]:  # noqa: F811
    with SidecarProcess(sidecar_flags(agent.url)) as process:
        yield process
