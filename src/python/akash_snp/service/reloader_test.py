"""The one file reloader: the last good value, a check per interval, a failed load retried on
change."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from akash_snp.service.reloader import Reloading, file_signature


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _number(path: Path) -> int:
    text = path.read_text()
    if not text.strip().isdigit():
        raise ValueError(f"not a number: {text!r}")
    return int(text)


def _write(path: Path, text: str, stamp: int) -> None:
    path.write_text(text)
    # distinct mtimes without sleeping: the signature must see every write
    os.utime(path, ns=(stamp, stamp))


def test_reloads_after_the_interval_and_keeps_the_last_good_value(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path, clock = tmp_path / "value", _Clock()
    _write(path, "1", 1)
    value = Reloading(lambda: _number(path), lambda: file_signature([path]), "value", 2.0, clock)
    _write(path, "2", 2)
    assert value.current() == 1  # not checked before the interval
    clock.now = 2.0
    assert value.current() == 2
    _write(path, "half-writ", 3)
    clock.now = 4.0
    with caplog.at_level(logging.ERROR):
        assert value.current() == 2
        clock.now = 6.0
        assert value.current() == 2  # the same broken file is not loaded (nor logged) again
    assert [r.getMessage() for r in caplog.records] == [
        "value reload failed, keeping the previous one"
    ]
    _write(path, "3", 4)
    clock.now = 8.0
    assert value.current() == 3


def test_a_missing_file_keeps_the_value_and_the_first_load_must_succeed(tmp_path: Path) -> None:
    path, clock = tmp_path / "value", _Clock()
    _write(path, "7", 1)
    value = Reloading(lambda: _number(path), lambda: file_signature([path]), "value", 1.0, clock)
    path.unlink()
    clock.now = 1.0
    assert value.current() == 7
    _write(path, "x", 2)
    with pytest.raises(ValueError, match="not a number"):
        Reloading(lambda: _number(path), lambda: file_signature([path]), "value", 1.0, clock)
