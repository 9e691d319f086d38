"""Whole-process time of ``snp-verify report`` against its floor, side by side in one run.

    python3 benchmarks/startup/bench_startup.py --cli-venv DIR [--pex dist/snp-verify.pex]
        [--tool-venv DIR] [--rounds 30]

Each row is one command started from scratch (fork, exec, interpreter start-up, imports, work,
exit), timed from outside: wall-clock time, and the CPU time (user + system) the kernel charged
to the process and its children, which load from other processes disturbs far less. The table
shows medians over rounds; the commands run in turn inside each round so that load hits all of
them alike.

- **floor**: the venv's Python importing only ``cryptography.x509`` and ``ec``: no Python
  verifier can start faster than the library it needs.
- **snp-verify (wheel)**: the ``snp-verify`` console script that ``pip install`` of the wheel
  put in ``--cli-venv``, verifying a real recording offline.
- **snp-verify.pex**: the same command from the PEX (``python dist/snp-verify.pex``), after one
  warm-up run that installs its venv into a private PEX_ROOT.
- **sev-attest-tool**: the PyPI package (Rust, Python bindings) in ``--tool-venv``, a Python
  process importing it and verifying its own bundled Milan sample.

Every interpreter is the real binary behind the venv (no pyenv shim in the way).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASE = "milan-v2-vcek-gsg"
FLOOR = "from cryptography import x509; from cryptography.hazmat.primitives.asymmetric import ec"
TOOL = (
    "import sev_attest_tool as t; "
    "t.verify_attestation_report(t.SAMPLE_ATTESTATION, t.SAMPLE_VCEK)"
)


def report_args(real: Path) -> list[str]:
    """``report`` arguments for the real recording CASE, read in place (exit 1: a debug guest)."""
    case = real / "reports" / CASE
    return [
        "report",
        "--offline",
        "--report",
        str(case / "report.bin"),
        "--certs",
        str(case / "vcek.der"),
        "--certs",
        str(real / "amd" / "milan_vcek_chain.pem"),
        "--at",
        "2025-06-01T00:00:00Z",
    ]


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds for one whole process; fails loudly when the command itself fails."""
    start = time.perf_counter()
    process = subprocess.Popen(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):  # snp-verify exits 1 for the debug guest (policy)
        raise SystemExit(f"{argv[0]} failed with exit status {process.returncode}")
    return elapsed, usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli-venv", type=Path, required=True, help="venv with the wheel")
    parser.add_argument("--pex", type=Path, help="dist/snp-verify.pex")
    parser.add_argument("--tool-venv", type=Path, help="venv with sev-attest-tool installed")
    parser.add_argument("--rounds", type=int, default=30)
    shared = Path(os.environ.get("AKASH_SNP_SHARED_DIR", "../shared"))
    parser.add_argument("--snp-real", type=Path, default=shared / "testdata" / "snp-real")
    args = parser.parse_args()

    python = str(args.cli_venv / "bin" / "python")
    commands: dict[str, list[str]] = {
        "floor: python + cryptography x509, ec": [python, "-c", FLOOR],
        "snp-verify report (wheel, console script)": [
            str(args.cli_venv / "bin" / "snp-verify"),
            *report_args(args.snp_real),
        ],
    }
    if args.pex is not None:
        commands["snp-verify.pex report"] = [python, str(args.pex), *report_args(args.snp_real)]
    if args.tool_venv is not None:
        commands["sev-attest-tool 0.2.4 (Rust, own sample)"] = [
            str(args.tool_venv / "bin" / "python"),
            "-c",
            TOOL,
        ]

    with tempfile.TemporaryDirectory() as pex_root:
        env = {**os.environ, "PEX_ROOT": pex_root}
        for argv in commands.values():  # warm-up: page cache, bytecode, the PEX's venv
            run_once(argv, env)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, argv in commands.items():
                times[name].append(run_once(argv, env))

    version = subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    floor_samples = next(iter(times.values()))
    floor_wall = statistics.median(wall for wall, _ in floor_samples)
    floor_cpu = statistics.median(cpu for _, cpu in floor_samples)
    print(f"case {CASE}, CPython {version}, {args.rounds} interleaved rounds, medians")
    print(f"{'what':44} {'wall ms':>8} {'x floor':>8} {'CPU ms':>8} {'x floor':>8}")
    for name, samples in times.items():
        wall = statistics.median(w for w, _ in samples)
        cpu = statistics.median(c for _, c in samples)
        print(
            f"{name:44} {wall * 1000:8.1f} {wall / floor_wall:8.2f} "
            f"{cpu * 1000:8.1f} {cpu / floor_cpu:8.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
