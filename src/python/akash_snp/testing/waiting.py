"""Wait for something to happen by polling it against a deadline, never by a fixed sleep.

A fixed sleep is either too short on a busy 2-core CI machine (a flaky test) or longer than
needed everywhere else (a slow one); polling returns as soon as the condition holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

POLL_INTERVAL = 0.05


def wait_until(
    predicate: Callable[[], T | None],
    timeout: float,
    what: str,
    *,
    ignoring: tuple[type[Exception], ...] = (),
    interval: float = POLL_INTERVAL,
) -> T:
    """Return ``predicate()``'s first truthy value; raise AssertionError naming ``what`` once
    ``timeout`` seconds pass. Exceptions in ``ignoring`` (a server not up yet) mean "not yet"."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = predicate()
        except ignoring as error:
            last_error = error
        else:
            if value:
                return value
        if time.monotonic() >= deadline:
            cause = f" (last error: {last_error!r})" if last_error is not None else ""
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}{cause}")
        time.sleep(interval)  # the poll interval, not a wait for anything
