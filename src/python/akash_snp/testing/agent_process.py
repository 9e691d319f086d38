"""Flags for starting a real agent and a sidecar in agent mode (``sidecar.harness``) in tests
and benchmarks. Not used by the service itself."""

from __future__ import annotations

import socket
from pathlib import Path


def emulated_agent_flags(pki_dir: Path, *extra: str) -> list[str]:
    """An agent on the emulated provider that trusts the emulated root for its own status."""
    return [
        "--provider", "emulated",
        "--emulated-pki-dir", str(pki_dir),
        "--trust-ark", str(pki_dir / "ark.pem"),
        "--kds-url", "http://127.0.0.1:9",  # never needed unless a test says otherwise
        *extra,
    ]  # fmt: skip


def sidecar_flags(agent_url: str) -> list[str]:
    """A sidecar as the webhook injects it in agent mode: a relay (the agent verifies)."""
    return [
        "--provider=agent",
        f"--agent-url={agent_url}",
        "--rate", "50", "--burst", "50",
    ]  # fmt: skip


def free_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
