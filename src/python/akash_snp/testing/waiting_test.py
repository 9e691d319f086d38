"""The polling helper returns at once when it can and fails with a message naming the wait."""

from __future__ import annotations

import itertools
import time

import pytest

from akash_snp.testing.waiting import wait_until


def test_returns_the_first_truthy_value() -> None:
    counter = itertools.count()
    assert wait_until(lambda: next(counter) >= 3 and "ready", timeout=5, what="three polls") == (
        "ready"
    )


def test_times_out_with_what_it_waited_for() -> None:
    started = time.monotonic()
    with pytest.raises(AssertionError, match="waiting for the moon"):
        wait_until(lambda: False, timeout=0.2, what="the moon")
    assert time.monotonic() - started < 2


def test_ignored_errors_mean_not_yet_and_are_reported() -> None:
    def refused() -> bool:
        raise ConnectionError("refused")

    with pytest.raises(AssertionError, match="ConnectionError"):
        wait_until(refused, timeout=0.1, what="a server", ignoring=(ConnectionError,))
    def missing() -> bool:
        raise KeyError("x")

    with pytest.raises(KeyError):  # an error not listed is a failure, not "not yet"
        wait_until(missing, timeout=0.1, what="a key")
