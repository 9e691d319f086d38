"""``snp-verify``: the tenant's command-line verifier (a thin layer over ``akash_snp.attest``).

Subcommands register themselves through a ``register(subparsers)`` function that sets ``run``.
To add one (e.g. ``url``), import its module and append it to ``SUBCOMMANDS``.
"""

from __future__ import annotations

import argparse
import sys
from types import ModuleType
from typing import NoReturn

from akash_snp.cli import report_command, url_command
from akash_snp.cli.help_format import HelpFormatter
from akash_snp.cli.output import EXIT_UNUSABLE

SUBCOMMANDS: tuple[ModuleType, ...] = (report_command, url_command)


class UsageError(Exception):
    """A command line argparse refuses, with the message argparse would print."""


class _Parser(argparse.ArgumentParser):
    """Raises ``UsageError`` instead of exiting, so that ``--json`` can answer with JSON too."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.format_usage()}{self.prog}: error: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="snp-verify",
        description="Verify AMD SEV-SNP attestation reports (exit 0 genuine, 1 rejected, "
        "2 unusable input).",
        formatter_class=HelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in SUBCOMMANDS:
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    try:
        args = parser.parse_args(arguments)
    except UsageError as error:
        print(error, file=sys.stderr)
        if "--json" in arguments:
            import json  # only for this answer: text output must not pay for loading it

            print(json.dumps({"verdict": "error", "error": str(error)}, indent=2))
        return EXIT_UNUSABLE
    except SystemExit as exit_request:  # argparse: --help or --version (0)
        return exit_request.code if isinstance(exit_request.code, int) else EXIT_UNUSABLE
    try:
        code: int = args.run(args)
    except RecursionError:  # e.g. a policy file nested thousands of levels deep
        print("snp-verify: an input nests too deeply to be understood", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
