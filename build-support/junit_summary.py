"""Sum the JUnit XML reports that `./pants test --test-report` writes into one closing line.

Pants prints one line per test file; CI also wants the count of test cases, in the plain form
``tests: N passed, N failed, N skipped``. Exits 1 when a report is unreadable or holds no test.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path


def count(report_dir: Path) -> tuple[int, int, int]:
    """(passed, failed, skipped) over every ``<testsuite>`` in the reports below report_dir."""
    total = failed = skipped = 0
    for report in sorted(report_dir.rglob("*.xml")):
        for suite in ElementTree.parse(report).getroot().iter("testsuite"):  # noqa: S314
            total += int(suite.get("tests", 0))
            failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            skipped += int(suite.get("skipped", 0))
    return total - failed - skipped, failed, skipped


def main(argv: list[str]) -> int:
    report_dir = Path(argv[1] if len(argv) > 1 else "dist/test/reports")
    try:
        passed, failed, skipped = count(report_dir)
    except (OSError, ElementTree.ParseError) as error:
        print(f"junit_summary: cannot read the reports in {report_dir}: {error}", file=sys.stderr)
        return 1
    print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
    return 0 if passed and not failed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
