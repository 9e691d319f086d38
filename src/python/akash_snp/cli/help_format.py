"""argparse's help formatter without its start-up cost.

argparse builds a formatter for every argument declared (to validate it) and each one imports
``shutil`` and asks the terminal for its width: a few milliseconds of every ``snp-verify`` run,
help or not. This formatter measures the width once, the way ``shutil.get_terminal_size`` does.
"""

from __future__ import annotations

import argparse
import os
import sys


def terminal_columns() -> int:
    """``$COLUMNS``, else the width of the terminal on stdout, else 80 (shutil's answer)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    stdout = sys.__stdout__
    if stdout is not None:
        try:
            return os.get_terminal_size(stdout.fileno()).columns
        except (ValueError, OSError):  # not a terminal, or a closed/replaced stream
            pass
    return 80


class HelpFormatter(argparse.HelpFormatter):
    """``argparse.HelpFormatter`` with the terminal width measured once per process."""

    _columns: int | None = None

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            if HelpFormatter._columns is None:
                HelpFormatter._columns = terminal_columns()
            width = HelpFormatter._columns - 2  # argparse's own margin
        super().__init__(prog, indent_increment, max_help_position, width)
