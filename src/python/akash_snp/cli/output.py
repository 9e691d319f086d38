"""How every ``snp-verify`` subcommand prints a verdict and chooses its exit code."""

from __future__ import annotations

import sys

from akash_snp.attest.verdict import Verdict

EXIT_GENUINE = 0  # genuine and the policy is satisfied
EXIT_REJECTED = 1  # a check failed; the first failing check is named on stderr
EXIT_UNUSABLE = 2  # unusable input or environment (bad file, KDS unreachable, --offline gaps)


def print_verdict(verdict: Verdict, as_json: bool) -> int:
    """Print the verdict (stdout), the first failure (stderr) and return the exit code."""
    print(verdict.to_json() if as_json else verdict.summary())
    if verdict.genuine:
        return EXIT_GENUINE
    failure = verdict.first_failure
    if failure is not None:
        print(f"snp-verify: rejected: {failure.name}: {failure.detail}", file=sys.stderr)
    return EXIT_REJECTED
