"""Run an installed ``snp-verify`` (console script or PEX) on every real AMD recording.

Usage: ``python check_real_recordings.py SNP_REAL_DIR -- COMMAND...`` where ``COMMAND`` starts
``snp-verify`` (e.g. ``venv/bin/snp-verify`` or ``python3.12 dist/snp-verify.pex``). Each case
of ``SNP_REAL_DIR/manifest.json`` is verified offline at its ``verify_at`` time, reading the files
in place. Expected, as in ``attest/real_recordings_test.py``: exit 0 and verdict ``genuine``,
except a debug guest, which the default policy rejects (exit 1, failing check ``policy.debug``).
The library's tests prove the verifier right; this proves the *packaged* command runs it.
Exits 1 on the first mismatch.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def expected_failure(case: dict[str, Any], root: Path) -> str | None:
    """``policy.debug`` for a debug guest (POLICY bit 19, at byte 8 of the report), else None."""
    policy = int.from_bytes((root / case["report"]).read_bytes()[8:16], "little")
    return "policy.debug" if policy & (1 << 19) else None


def check_case(command: list[str], case: dict[str, Any], root: Path) -> str | None:
    """A description of what went wrong for ``case``, or None when the command behaved."""
    argv = [
        *command,
        "report",
        "--offline",
        "--json",
        "--report",
        str(root / case["report"]),
        "--certs",
        str(root / case["endorsement_cert"]),
        "--certs",
        str(root / case["chain"]),
        "--at",
        case["verify_at"],
    ]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    failure = expected_failure(case, root)
    want_code = 1 if failure else 0
    if result.returncode != want_code:
        return f"exit {result.returncode}, expected {want_code}: {result.stderr.strip()}"
    verdict = json.loads(result.stdout)
    first = next((c["name"] for c in verdict["checks"] if not c["ok"]), None)
    if first != failure or verdict["product"] != case["product"]:
        return f"first failing check {first!r} (expected {failure!r}), product {verdict['product']}"
    return None


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(argv[0])
    command = argv[2:]
    cases = json.loads((root / "manifest.json").read_text())["cases"]
    problems = 0
    for case in cases:
        problem = check_case(command, case, root)
        print(f"  {case['id']}: {problem or 'as expected'}")
        problems += problem is not None
    print(f"  {len(cases) - problems}/{len(cases)} real recordings as expected")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
