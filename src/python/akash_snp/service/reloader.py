"""A value loaded from files that are replaced while a server runs (TLS pair, mounted settings).

``Reloading.current()`` is what request handlers call: it returns the last good value and, at
most once per ``check_interval``, compares a cheap signature of the files (``stat`` results) with
the one it last loaded. When the signature changed it loads again; a load that fails (a
half-written pair, a bad value) keeps the previous value, logs the error once, and is retried as
soon as the files change again. The signature is taken before loading, so a change during the
read is noticed at the next check.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path
from typing import Generic, TypeVar

_LOG = logging.getLogger(__name__)

T = TypeVar("T")


def file_signature(paths: Iterable[Path]) -> Hashable | None:
    """(device, inode, mtime, size) of each file, through symlinks; None while one is missing."""
    try:
        stats = [os.stat(path) for path in paths]
    except OSError:
        return None
    return tuple((s.st_dev, s.st_ino, s.st_mtime_ns, s.st_size) for s in stats)


class Reloading(Generic[T]):
    """The current value of ``load()``, loaded again when ``signature()`` changes."""

    def __init__(
        self,
        load: Callable[[], T],
        signature: Callable[[], Hashable | None],
        what: str,
        check_interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Loads once now: errors of the first load propagate (a server must not start)."""
        self._load = load
        self._signature = signature
        self._what = what
        self._interval = check_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._tried = signature()
        self._value = load()
        self._next_check = clock() + check_interval

    def current(self) -> T:
        """The value to use now; cheap unless a check is due."""
        if self._clock() < self._next_check:
            return self._value
        with self._lock:
            now = self._clock()
            if now >= self._next_check:
                self._next_check = now + self._interval
                self._reload_if_changed()
            return self._value

    def _reload_if_changed(self) -> None:
        seen = self._signature()
        if seen is None or seen == self._tried:
            return
        self._tried = seen
        try:
            self._value = self._load()
        except ValueError as error:
            _LOG.error(
                f"{self._what} reload failed, keeping the previous one", extra={"error": str(error)}
            )
            return
        _LOG.info(f"{self._what} reloaded")
