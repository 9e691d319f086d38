"""``sev-webhook``: run the injector (``serve``, the default), make its TLS files for an operator
(``certs``), or set up its TLS inside the cluster as an init container (``tls-bootstrap``).

``sev-webhook --tls-cert FILE --tls-key FILE [--port 8443] [--config PATH]`` serves without naming
the subcommand. Unusable input (missing certificate, invalid config) is one line on stderr and exit
status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from akash_snp.webhook.config import ConfigError, ConfigSource
from akash_snp.webhook.tls import CertificateReloader, TLSFilesError

EXIT_USAGE = 2


def _serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sev-webhook [serve]",
        description="Mutating admission webhook that injects the SEV-SNP attestation sidecar. "
        "Run 'sev-webhook certs --help' for the certificate helper and "
        "'sev-webhook tls-bootstrap --help' for the in-cluster TLS set-up.",
    )
    parser.add_argument(
        "--tls-cert",
        type=Path,
        required=True,
        metavar="FILE",
        help="PEM serving certificate (chain); reloaded when the file changes",
    )
    parser.add_argument(
        "--tls-key",
        type=Path,
        required=True,
        metavar="FILE",
        help="PEM private key; reloaded when the file changes",
    )
    parser.add_argument("--port", type=int, default=8443, help="HTTPS port (default 8443)")
    parser.add_argument(
        "--bind-address",
        default="0.0.0.0",  # noqa: S104 - pod network
        help="address to listen on (default 0.0.0.0)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help="YAML/JSON settings file, or a directory (the mounted ConfigMap: optional "
        "config.yaml plus one file per setting, named after its key); reloaded when it changes; "
        "without it the documented defaults apply",
    )
    parser.add_argument(
        "--drain-seconds",
        type=float,
        default=0.0,
        metavar="S",
        help="after SIGTERM keep serving for S seconds, each answer closing its connection, "
        "then stop (default 0; in Kubernetes, a few seconds: see docs/deploy.md)",
    )
    parser.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default="info",
        help="info logs one line per admission with its result and reason (default info)",
    )
    return parser


def serve_main(argv: list[str]) -> int:
    """Parse the serve flags, check the inputs, then run the server."""
    args = _serve_parser().parse_args(argv)
    if not 1 <= args.port <= 65535 or not 0 <= args.drain_seconds <= 300:
        print("sev-webhook: --port must be 1..65535, --drain-seconds 0..300", file=sys.stderr)
        return EXIT_USAGE
    try:
        reloader = CertificateReloader(args.tls_cert, args.tls_key)
        source = ConfigSource(args.config, own_namespace=os.environ.get("POD_NAMESPACE") or None)
    except (TLSFilesError, ConfigError) as exc:
        print(f"sev-webhook: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from akash_snp.service.jsonlog import configure_logging
    from akash_snp.serving.server import Limits
    from akash_snp.webhook.server import ServerOptions, run

    configure_logging(args.log_level.upper())
    options = ServerOptions(
        cert=args.tls_cert,
        key=args.tls_key,
        port=args.port,
        bind_address=args.bind_address,
        limits=Limits(drain=args.drain_seconds),
    )
    return run(options, source, reloader)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``sev-webhook`` pex."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "certs":
        from akash_snp.webhook.certs_command import main as certs_main

        return certs_main(args[1:])
    if args and args[0] == "tls-bootstrap":
        from akash_snp.webhook.tls_bootstrap import main as bootstrap_main

        return bootstrap_main(args[1:])
    if args and args[0] == "serve":
        args = args[1:]
    return serve_main(args)


if __name__ == "__main__":
    sys.exit(main())
