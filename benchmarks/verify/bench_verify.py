"""Verification time per report: warm, cold and the floor (one raw ECDSA P-384 verify), one run.

    cd src/python && python ../../benchmarks/verify/bench_verify.py [--rounds 15] [--bench-venv DIR]

Warm: certificates parsed and chain verified earlier (the library's caches hold them); the call
still parses the report, checks every certificate's validity at the given time, verifies the
report's ECDSA signature and evaluates the policy. Cold: caches cleared before every call, so each
call parses the certificates and verifies the three RSA-PSS links too. Floor: one
``EllipticCurvePublicKey.verify`` of the same report with ``cryptography``. Each round alternates
small blocks of floor and warm calls so machine load hits both alike; the table shows medians over
rounds.

If ``--bench-venv`` points at a virtualenv with the PyPI package ``sev-attest-tool`` installed,
its ``verify_attestation_report`` on its bundled sample (a Milan report + VCEK) is timed in a
subprocess in the same run (it cannot be installed in the project's own environment).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from akash_snp.attest.certs import load_certificates
from akash_snp.attest.report import parse_report
from akash_snp.attest.verify import clear_caches, verify_attestation

# Run from the repository root (./pants run does), with ../shared beside it.
REAL = Path(os.environ.get("AKASH_SNP_SHARED_DIR", "../shared")) / "testdata" / "snp-real"
SEV_ATTEST_TOOL_SNIPPET = """
import json, time, sev_attest_tool as t
a, v = t.SAMPLE_ATTESTATION, t.SAMPLE_VCEK
t.verify_attestation_report(a, v)
rounds = []
for _ in range({rounds}):
    start = time.perf_counter()
    for _ in range({n}):
        t.verify_attestation_report(a, v)
    rounds.append((time.perf_counter() - start) / {n})
print(json.dumps(rounds))
"""


def _per_call(function: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        function()
    return (time.perf_counter() - start) / n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--n", type=int, default=200, help="calls per round (warm, floor)")
    parser.add_argument("--case", default="genoa-zen4c-v3-vcek")
    parser.add_argument("--bench-venv", type=Path, default=Path("/tmp/venv-bench"))  # noqa: S108
    args = parser.parse_args()

    manifest = json.loads((REAL / "manifest.json").read_text())
    case = next(c for c in manifest["cases"] if c["id"] == args.case)
    report = (REAL / case["report"]).read_bytes()
    certs = [(REAL / case["endorsement_cert"]).read_bytes(), (REAL / case["chain"]).read_bytes()]
    at = datetime.fromisoformat(case["verify_at"])

    parsed = parse_report(report)
    key = load_certificates(certs[0])[0].public_key
    assert isinstance(key, ec.EllipticCurvePublicKey)
    signature = encode_dss_signature(parsed.signature.r, parsed.signature.s)

    def floor() -> None:
        key.verify(signature, report[:0x2A0], ec.ECDSA(hashes.SHA384()))

    def warm() -> None:
        verdict = verify_attestation(report, certificates=certs, at=at)
        assert verdict.genuine

    def cold() -> None:
        clear_caches()
        warm()

    warm()
    samples: dict[str, list[float]] = {"floor": [], "warm": [], "cold": []}
    ratios: list[float] = []
    block = max(1, args.n // 20)
    for _ in range(args.rounds):
        # Alternate small blocks so load changes on the machine hit floor and warm alike.
        f = w = 0.0
        for _ in range(20):
            f += _per_call(floor, block)
            w += _per_call(warm, block)
        c = _per_call(cold, max(1, args.n // 10))
        samples["floor"].append(f / 20)
        samples["warm"].append(w / 20)
        samples["cold"].append(c)
        ratios.append(w / f)

    tool: list[float] | None = None
    tool_python = args.bench_venv / "bin" / "python"
    if tool_python.is_file():
        snippet = SEV_ATTEST_TOOL_SNIPPET.format(rounds=args.rounds, n=max(1, args.n // 2))
        result = subprocess.run(
            [str(tool_python), "-c", snippet], capture_output=True, text=True, check=False
        )
        if result.returncode == 0:
            tool = json.loads(result.stdout)
        else:
            print(f"sev-attest-tool run failed: {result.stderr.strip()[-300:]}", file=sys.stderr)

    floor_ms = statistics.median(samples["floor"]) * 1e3
    print(
        f"case {case['id']} ({case['product']}, report v{case['report_version']}), "
        f"{args.rounds} interleaved rounds, medians"
    )
    print(f"{'what':<44} {'ms/report':>10} {'x floor':>8}")
    rows = [
        ("floor: one ECDSA P-384 verify (cryptography)", samples["floor"]),
        ("akash_snp warm (chain + VCEK cached)", samples["warm"]),
        ("akash_snp cold (parse certs + 3 RSA-PSS)", samples["cold"]),
    ]
    if tool is not None:
        rows.append(("sev-attest-tool 0.2.4 (own Milan sample)", tool))
    for name, values in rows:
        ms = statistics.median(values) * 1e3
        print(f"{name:<44} {ms:>10.3f} {ms / floor_ms:>8.2f}")
    print(
        f"median of per-round warm/floor ratios: {statistics.median(ratios):.3f} "
        f"(target <= 1.15)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
