"""How every ``snp-verify`` subcommand prints its result and chooses its exit code.

Under ``--json`` stdout holds exactly one JSON object: the verdict (exit 0 or 1) or an error
object ``{"verdict": "error", "error": ...}`` (exit 2). Human-readable lines go to stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

from akash_snp.attest.verdict import Verdict

EXIT_GENUINE = 0  # genuine and the policy is satisfied
EXIT_REJECTED = 1  # a check failed (forged or inconsistent evidence too); named on stderr
EXIT_UNUSABLE = 2  # input that cannot be read at all, or the environment (KDS unreachable, ...)


def print_verdict(
    verdict: Verdict,
    as_json: bool,
    context: Mapping[str, Any] | None = None,
    notes: Sequence[str] = (),
) -> int:
    """Print the verdict (stdout), the first failure (stderr) and return the exit code.

    ``context``: extra top-level JSON fields (and ``name: value`` lines in text); ``notes``:
    text-only lines after the check list."""
    if as_json:
        import json  # here, not at the top: the text output must not pay for loading it

        print(json.dumps({**verdict.as_dict(), **(context or {})}, indent=2))
    else:
        print(verdict.summary())
        for line in notes:
            print(line)
    if verdict.genuine:
        return EXIT_GENUINE
    failure = verdict.first_failure
    if failure is not None:
        print(f"snp-verify: rejected: {failure.name}: {failure.detail}", file=sys.stderr)
    return EXIT_REJECTED


def print_error(message: str, as_json: bool) -> int:
    """Unusable input or environment: the reason on stderr (and as JSON on stdout); exit 2."""
    if as_json:
        import json

        print(json.dumps({"verdict": "error", "error": message}, indent=2))
    print(f"snp-verify: {message}", file=sys.stderr)
    return EXIT_UNUSABLE
