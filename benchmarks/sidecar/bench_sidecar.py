"""Benchmark of the attestation sidecar (sev-attestation) with the emulated provider.

Measures: steady-state RSS of the sidecar process, /verify latency for the cached (periodic)
answer, and /verify?nonce= latency (a fresh emulated report, signed and verified by the sidecar).
Run from the repository root:

    PYTHONPATH=src/python /tmp/venv-dev/bin/python benchmarks/sidecar/bench_sidecar.py
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
from akash_snp.testing.sidecar_process import SidecarProcess


def rss_mib(pid: int) -> float:
    """Resident set size from /proc (kB -> MiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("VmRSS not found")


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    """p50, p99 and max in milliseconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000, ordered[-1] * 1000


def timed(session: requests.Session, url: str, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        response = session.get(url, timeout=30)
        samples.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {response.status_code}")
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cached", type=int, default=2000, help="cached /verify requests")
    parser.add_argument("--fresh", type=int, default=200, help="fresh-nonce requests")
    parser.add_argument("--pki-dir", type=Path, help="reuse an emulated PKI directory")
    args = parser.parse_args()
    pki = args.pki_dir or Path(tempfile.mkdtemp(prefix="bench-pki-"))
    EmulatedAmd.load_or_create(pki, "Genoa")
    flags = [
        "--provider",
        "emulated",
        "--emulated-pki-dir",
        str(pki),
        "--trust-ark",
        str(pki / "ark.pem"),
        "--rate",
        "1000",
        "--burst",
        "1000",
    ]
    with SidecarProcess(flags) as sidecar, requests.Session() as session:
        while (
            session.get(f"{sidecar.url}/verify", timeout=30).json()["attestation_status"]
            == "pending"
        ):
            time.sleep(0.1)
        idle = rss_mib(sidecar.pid)
        cached = timed(session, f"{sidecar.url}/verify", args.cached)
        fresh_url = f"{sidecar.url}/verify?nonce={secrets.token_hex(32)}"
        fresh = timed(session, fresh_url, args.fresh)
        time.sleep(1)
        steady = rss_mib(sidecar.pid)
        peak = 0.0
        for line in Path(f"/proc/{sidecar.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    with (
        SidecarProcess(
            ["--provider", "auto", "--configfs-root", "/nonexistent", "--device", "/nonexistent"]
        ) as bare,
        requests.Session() as session,
    ):
        timed(session, f"{bare.url}/verify", 200)
        time.sleep(1)
        bare_rss = rss_mib(bare.pid)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(
        f"RSS without a guest interface (no emulated PKI loaded), after 200 requests: "
        f"{bare_rss:.1f} MiB"
    )
    print(f"RSS after first attestation: {idle:.1f} MiB")
    print(f"RSS steady state after the load below: {steady:.1f} MiB (peak {peak:.1f} MiB)")
    for name, samples in (("cached /verify", cached), ("fresh /verify?nonce=", fresh)):
        p50, p99, worst = percentiles(samples)
        print(f"{name}: n={len(samples)} p50={p50:.2f} ms p99={p99:.2f} ms max={worst:.2f} ms")


if __name__ == "__main__":
    main()
