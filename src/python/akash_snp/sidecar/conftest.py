"""Fixtures for the sidecar's real-process tests: a private copy of the recorded emulated Genoa
PKI (generating RSA-4096 keys is slow) and a running emulated sidecar trusting its root."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from akash_snp.testing.fixtures import (  # noqa: F401 (pytest finds fixtures by name)
    emulated_dir,
    emulated_pki_dir,
    emulated_pkis,
    fake_kds,
)
from akash_snp.testing.sidecar_process import SidecarProcess


@pytest.fixture(scope="module")
def emulated_sidecar(emulated_pki_dir: Path) -> Iterator[SidecarProcess]:  # noqa: F811
    flags = [
        "--provider", "emulated",
        "--emulated-pki-dir", str(emulated_pki_dir),
        "--trust-ark", str(emulated_pki_dir / "ark.pem"),
        "--rate", "50", "--burst", "50",
        "--kds-url", "http://127.0.0.1:9",  # never needed: the cert table is complete
    ]  # fmt: skip
    with SidecarProcess(flags) as sidecar:
        yield sidecar
