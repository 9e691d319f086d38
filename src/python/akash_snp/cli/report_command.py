"""``snp-verify report``: verify a saved report and its certificates, offline or with KDS.

Exit 0 genuine and policy satisfied; 1 rejected (first failing check on stderr); 2 unusable
input or environment. The logic lives in ``akash_snp.attest``; this module only does I/O.
"""

from __future__ import annotations

import argparse
import string

from akash_snp.attest.constants import REPORT_SIZE
from akash_snp.attest.errors import AttestError
from akash_snp.attest.trust import read_input
from akash_snp.attest.verify import verify_attestation
from akash_snp.cli.help_format import HelpFormatter
from akash_snp.cli.output import print_error, print_verdict
from akash_snp.cli.policy_flags import (
    CliInputError,
    add_verification_flags,
    verification_options,
)

_HEX = set(string.hexdigits.encode())
# The report as hex text, with room for line breaks, spaces and a 0x prefix.
MAX_REPORT_FILE_BYTES = 4 * REPORT_SIZE


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "report",
        help="verify a saved attestation report",
        description="Verify a raw SEV-SNP attestation report against AMD's certificate chain "
        "and a policy. Certificates may be PEM/DER files, PEM bundles or extended-report "
        "certificate tables; missing ones are fetched from AMD KDS unless --offline.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "--report",
        required=True,
        metavar="FILE",
        help="raw 1184-byte report, or the same as hex text",
    )
    parser.add_argument(
        "--certs",
        action="append",
        default=[],
        metavar="FILE",
        help="certificates (repeatable): PEM, DER, bundles, cert tables",
    )
    add_verification_flags(parser)
    parser.set_defaults(run=run)


def decode_report(data: bytes) -> bytes:
    """Accept the raw report or its hex text (whitespace and a 0x prefix allowed)."""
    if len(data) == REPORT_SIZE:
        return data
    text = b"".join(data.split()).removeprefix(b"0x")
    if text and set(text) <= _HEX and len(text) == 2 * REPORT_SIZE:
        return bytes.fromhex(text.decode())
    raise CliInputError(
        f"the report must be {REPORT_SIZE} raw bytes or {2 * REPORT_SIZE} hex digits "
        f"(got {len(data)} bytes)"
    )


def run(args: argparse.Namespace) -> int:
    try:
        report = decode_report(read_input(args.report, "report", MAX_REPORT_FILE_BYTES))
        certificates = [read_input(path, "certificate file") for path in args.certs]
        options = verification_options(args)
        verdict = verify_attestation(
            report,
            certificates=certificates,
            crls=options.crls,
            policy=options.policy,
            at=options.at,
            kds=options.kds,
            extra_roots=options.extra_roots,
            product=options.product,
        )
    except (CliInputError, AttestError) as error:
        return print_error(str(error), args.json)
    return print_verdict(verdict, args.json)
