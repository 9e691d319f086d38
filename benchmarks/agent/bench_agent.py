"""Benchmark of the node attestation agent (``sev-attestation agent``) with the emulated
provider, and of a sidecar in ``--provider agent`` mode in front of it.

Measures: RSS of the agent and of the agent-mode sidecar, ``/v1/report`` latency at the agent (a
fresh emulated report, no verification), and the sidecar's ``/verify?nonce=`` latency through the
agent (report from the agent over HTTP, then verified by the sidecar). Run from the repository
root:

    ./pants run benchmarks/agent/bench_agent.py -- [--fresh 200] [--pki-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

from akash_snp.emulation.pki import EmulatedAmd
from akash_snp.testing.agent_process import emulated_agent_flags, sidecar_flags
from akash_snp.testing.sidecar_process import SidecarProcess


def status_mib(pid: int, field: str) -> float:
    """A memory field (``VmRSS``, ``VmHWM``) from /proc/<pid>/status, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not found")


def timed(session: requests.Session, url: str, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        response = session.get(url, timeout=30)
        samples.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {response.status_code}")
    return samples


def summary(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"{name}: n={len(ordered)} p50={statistics.median(ordered) * 1000:.2f} ms "
        f"p99={p99 * 1000:.2f} ms max={ordered[-1] * 1000:.2f} ms"
    )


def _settled(session: requests.Session, url: str) -> None:
    while session.get(url, timeout=30).json()["attestation_status"] == "pending":
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fresh", type=int, default=200, help="fresh-nonce requests per path")
    parser.add_argument("--pki-dir", type=Path, help="reuse an emulated PKI directory")
    args = parser.parse_args()
    pki = args.pki_dir or Path(tempfile.mkdtemp(prefix="bench-pki-"))
    EmulatedAmd.load_or_create(pki, "Genoa")
    budget = ["--rate", "1000", "--burst", "1000"]
    with (
        SidecarProcess(emulated_agent_flags(pki, *budget), subcommand=["agent"]) as agent,
        SidecarProcess([*sidecar_flags(agent.url), *budget]) as sidecar,
        requests.Session() as session,
    ):
        _settled(session, f"{agent.url}/v1/status")
        _settled(session, f"{sidecar.url}/verify")
        agent_idle = status_mib(agent.pid, "VmRSS")
        sidecar_idle = status_mib(sidecar.pid, "VmRSS")
        direct = timed(session, f"{agent.url}/v1/report?nonce={secrets.token_hex(32)}", args.fresh)
        via = timed(session, f"{sidecar.url}/verify?nonce={secrets.token_hex(32)}", args.fresh)
        time.sleep(1)
        agent_rss = status_mib(agent.pid, "VmRSS")
        agent_peak = status_mib(agent.pid, "VmHWM")
        sidecar_rss = status_mib(sidecar.pid, "VmRSS")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(f"agent RSS after its first attestation: {agent_idle:.1f} MiB; after the load below: "
          f"{agent_rss:.1f} MiB (peak {agent_peak:.1f} MiB)")  # fmt: skip
    print(f"agent-mode sidecar RSS after its first attestation: {sidecar_idle:.1f} MiB; after "
          f"the load below: {sidecar_rss:.1f} MiB")  # fmt: skip
    print(summary("agent GET /v1/report?nonce=", direct))
    print(summary("sidecar GET /verify?nonce= through the agent", via))


if __name__ == "__main__":
    main()
