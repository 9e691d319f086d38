"""How the rows are shown: a fixed-width table for people, one JSON document for scripts."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from akash_snp.status.fetching import PodStatus

COLUMNS = ("NAMESPACE", "POD", "NODE", "STATUS", "PRODUCT", "TCB", "AGE", "REASON")
MAX_REASON = 100


def age_text(seconds: float) -> str:
    """``kubectl``-style age: 45s, 4m12s, 3h05m, 2d04h."""
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    if whole < 86400:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    return f"{whole // 86400}d{whole % 86400 // 3600:02d}h"


def _cells(row: PodStatus, now: datetime) -> tuple[str, ...]:
    last = row.last_verification
    reason = row.reason if len(row.reason) <= MAX_REASON else row.reason[: MAX_REASON - 3] + "..."
    return (
        row.namespace,
        row.pod,
        row.node or "-",
        row.status + (" (fresh)" if row.fresh and row.status == "verified" else ""),
        row.product or "-",
        row.tcb or "-",
        age_text((now - last).total_seconds()) if last else "-",
        reason or "-",
    )


def table(rows: Sequence[PodStatus], now: datetime) -> str:
    """The table with a header and a one-line count per status; columns padded to fit."""
    lines = [COLUMNS] + [_cells(row, now) for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS) - 1)]
    text = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False))
        + "  "
        + line[-1]
        for line in lines
    ]
    text.append(summary(rows))
    return "\n".join(text)


def summary(rows: Sequence[PodStatus]) -> str:
    """``3 pods: 2 verified, 1 unavailable``."""
    counts = Counter(row.status for row in rows)
    parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    return f"{len(rows)} injected pods" + (f": {parts}" if parts else "")


def as_json(rows: Sequence[PodStatus], now: datetime) -> str:
    """One JSON object: the time of the check, counts per status and every row."""
    return json.dumps(
        {
            "checked_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "counts": dict(sorted(Counter(row.status for row in rows).items())),
            "pods": [row.as_dict(now) for row in rows],
        },
        indent=2,
    )
