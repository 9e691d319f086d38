"""``snp-verify``: the tenant's command-line verifier (a thin layer over ``akash_snp.attest``).

Subcommands register themselves through a ``register(subparsers)`` function that sets ``run``.
To add one (e.g. ``url``), import its module and append it to ``SUBCOMMANDS``.
"""

from __future__ import annotations

import argparse
import sys
from types import ModuleType

from akash_snp.cli import report_command, url_command
from akash_snp.cli.help_format import HelpFormatter

SUBCOMMANDS: tuple[ModuleType, ...] = (report_command, url_command)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    parser = build_parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exit_request:  # argparse: --help (0) or a usage error (2)
        return exit_request.code if isinstance(exit_request.code, int) else 2
    try:
        code: int = args.run(args)
    except RecursionError:  # e.g. a policy file nested thousands of levels deep
        print("snp-verify: an input nests too deeply to be understood", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
