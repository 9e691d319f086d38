"""``sev-status``: the attestation status of every injected tenant pod, at a glance.

Lists the pods the webhook marked ``sev-attestation/status: injected`` (one namespace or all),
asks each sidecar's ``/verify`` through the API server's pod proxy and prints one row per pod.
Exit status, for scripts: 0 every injected pod is ``verified`` (or there is none); 1 at least one
is ``failed``, ``unavailable``, ``pending`` or ``unreachable``; 2 the pods could not be listed or
the command line is unusable (kubeconfig, RBAC, flags).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO

from akash_snp.attest.errors import AttestError
from akash_snp.attestation.state import VERIFIED
from akash_snp.attestation.timefmt import utc_now
from akash_snp.cli.policy_flags import CliInputError, add_verification_flags, verification_options
from akash_snp.status.fetching import FetchSettings, PodStatus, check_all
from akash_snp.status.kube import KubeError, connect
from akash_snp.status.listing import list_injected
from akash_snp.status.rendering import as_json, summary, table

EXIT_ALL_VERIFIED = 0
EXIT_NOT_VERIFIED = 1
EXIT_UNUSABLE = 2
PROGRESS_MIN_PODS = 20  # below this a run takes about a second: no progress line


def build_parser() -> argparse.ArgumentParser:
    """The command line; ``--fresh`` reuses ``snp-verify``'s verification flags."""
    parser = argparse.ArgumentParser(
        prog="sev-status",
        description="Attestation status of every pod with the sev-attestation sidecar, asked "
        "through the API server's pod proxy. Exit 0: all verified; 1: some pod is not verified; "
        "2: pods could not be listed or unusable input.",
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("-n", "--namespace", help="one namespace")
    where.add_argument("-A", "--all-namespaces", action="store_true", help="every namespace")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, "
                        "~/.kube/config, else the pod's ServiceAccount)")
    parser.add_argument("--context", help="kubeconfig context (default: the current one)")
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="send each sidecar a random nonce and verify the answer here, like `snp-verify "
        "url` (--trust-ark, --policy, ... apply); default: read each sidecar's last result",
    )
    parser.add_argument(
        "--watch", type=float, metavar="SECONDS", help="refresh every SECONDS until interrupted"
    )
    parser.add_argument("--count", type=int, metavar="N", help="with --watch: stop after N rounds")
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds per request (default 10)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=16, help="sidecars asked at once (default 16)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    add_verification_flags(parser)
    return parser


class Progress:
    """One self-overwriting line on stderr, for clusters where a round takes a while."""

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self._stream = stream
        self._enabled = enabled
        self._shown = False

    def show(self, text: str) -> None:
        if self._enabled:
            self._stream.write(f"\rsev-status: {text}")
            self._stream.flush()
            self._shown = True

    def done(self) -> None:
        if self._shown:
            self._stream.write("\n")
            self._shown = False


def one_round(api: Any, args: argparse.Namespace, settings: FetchSettings) -> list[PodStatus]:
    """List the injected pods and ask every sidecar once (progress on stderr when there are
    many)."""
    progress = Progress(sys.stderr, enabled=not args.quiet)
    namespace = None if args.all_namespaces else args.namespace

    def listed(seen: int) -> None:
        if seen >= PROGRESS_MIN_PODS:
            progress.show(f"listed {seen} pods")

    pods = list_injected(api, namespace, args.timeout * 3, listed)

    def asked(done: int) -> None:
        if len(pods) >= PROGRESS_MIN_PODS:
            progress.show(f"asked {done}/{len(pods)} sidecars")

    rows = check_all(api, pods, settings, args.concurrency, asked)
    progress.done()
    return rows


def render(rows: list[PodStatus], args: argparse.Namespace, now: datetime) -> str:
    """The output of one round."""
    if args.json:
        return as_json(rows, now)
    if args.watch:
        return f"{now.strftime('%Y-%m-%d %H:%M:%S')} UTC, every {args.watch:g} s\n" + table(
            rows, now
        )
    return table(rows, now) if rows else summary(rows)


def exit_code(rows: list[PodStatus]) -> int:
    """0 when every row is verified, else 1."""
    return EXIT_ALL_VERIFIED if all(r.status == VERIFIED for r in rows) else EXIT_NOT_VERIFIED


def main(argv: list[str] | None = None, sleep: Callable[[float], None] = time.sleep) -> int:
    """Run ``sev-status``; returns the exit status."""
    try:
        args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exit_request:  # argparse: --help (0) or a usage error (2)
        return exit_request.code if isinstance(exit_request.code, int) else EXIT_UNUSABLE
    if args.concurrency < 1 or args.timeout <= 0 or (args.watch is not None and args.watch <= 0):
        print("sev-status: --concurrency, --timeout and --watch must be positive", file=sys.stderr)
        return EXIT_UNUSABLE
    try:
        fresh = verification_options(args) if args.fresh else None
        api = connect(args.kubeconfig, args.context, pool_size=args.concurrency)
    except (CliInputError, AttestError, KubeError) as error:
        print(f"sev-status: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    settings = FetchSettings(timeout=args.timeout, fresh=fresh)
    code = EXIT_UNUSABLE
    rounds = 0
    try:
        while True:
            try:
                rows = one_round(api, args, settings)
            except KubeError as error:
                print(f"sev-status: {error}", file=sys.stderr)
                code = EXIT_UNUSABLE
            else:
                print(render(rows, args, utc_now()), flush=True)
                code = exit_code(rows)
            rounds += 1
            if not args.watch or (args.count is not None and rounds >= args.count):
                return code
            sleep(args.watch)
    except KeyboardInterrupt:
        return code
    finally:
        api.close()


if __name__ == "__main__":
    sys.exit(main())
