"""Sidecar configuration: command-line flags, each mirrored by an environment variable
(``SEV_ATTESTATION_<FLAG>``, e.g. ``SEV_ATTESTATION_PROVIDER=ioctl``); a flag wins over its
variable. Validation errors become argparse usage errors, never tracebacks."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from akash_snp.guest.agent_client import parse_agent_url
from akash_snp.guest.select import PROVIDER_CHOICES

ENV_PREFIX = "SEV_ATTESTATION_"
DEFAULT_PORT = 8790
DEFAULT_INTERVAL = 300.0
AGENT_PROVIDER = "agent"
SIDECAR_PROVIDER_CHOICES = (*PROVIDER_CHOICES, AGENT_PROVIDER)


@dataclass(frozen=True)
class SidecarConfig:
    """Everything ``main`` needs to build the service."""

    provider: str
    agent_url: str | None
    port: int
    bind_address: str
    interval: float
    jitter: float
    emulated_pki_dir: Path | None
    emulated_product: str
    kds_url: str | None
    kds_cache_dir: Path | None
    policy: Path | None
    trust_ark: tuple[Path, ...]
    rate: float
    burst: int
    configfs_root: Path
    device: Path
    threads: int
    log_level: str


def env_value(environ: Mapping[str, str], flag: str) -> str | None:
    """The ``SEV_ATTESTATION_<FLAG>`` mirror of ``--flag`` (shared with the node agent's flags)."""
    return environ.get(ENV_PREFIX + flag.upper().replace("-", "_"))


def positive_float(text: str) -> float:
    """argparse type: a number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def positive_int(text: str) -> int:
    """argparse type: a whole number > 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def build_parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    """The flag set; defaults come from the environment, then from the built-in values."""

    def default(flag: str, fallback: str | None) -> str | None:
        return env_value(environ, flag) or fallback

    parser = argparse.ArgumentParser(
        prog="sev-attestation",
        description="SEV-SNP attestation sidecar: serves verified reports at /verify. "
        f"Every flag can also be set as {ENV_PREFIX}<FLAG> (e.g. {ENV_PREFIX}PORT). "
        "`sev-attestation agent --help` describes the node attestation agent.",
    )
    add = parser.add_argument
    add(
        "--provider",
        choices=SIDECAR_PROVIDER_CHOICES,
        default=default("provider", "auto"),
        help="guest interface: auto (configfs-tsm, then /dev/sev-guest), configfs-tsm, ioctl, "
        "emulated (test PKI; its reports never pass against AMD's roots), or agent (relay the "
        "node attestation agent at --agent-url, which obtains and verifies the reports: no "
        "device access and no verifier here; --kds-url, --kds-cache-dir, --policy and --trust-ark "
        "are then the agent's flags, refused here, and --interval is unused: /verify shows the "
        "agent's periodic attestation)",
    )
    add(
        "--agent-url",
        default=default("agent-url", None),
        help="agent provider: the node agent's base URL, e.g. http://$(HOST_IP):8791",
    )
    add(
        "--port",
        type=int,
        default=default("port", str(DEFAULT_PORT)),
        help="HTTP port (0: any free port, logged at start-up)",
    )
    add(
        "--bind-address",
        default=default("bind-address", "0.0.0.0"),  # noqa: S104
        help="address to listen on (the pod network needs all interfaces)",
    )
    add(
        "--interval",
        type=positive_float,
        default=default("interval", str(DEFAULT_INTERVAL)),
        help="seconds between periodic attestations",
    )
    add(
        "--jitter",
        type=float,
        default=default("jitter", "0.1"),
        help="fraction of the interval to randomise each wait by (0..0.5)",
    )
    add(
        "--emulated-pki-dir",
        type=Path,
        default=default("emulated-pki-dir", None),
        help="emulated provider: reuse or create the test PKI here (root written as DIR/ark.pem)",
    )
    add(
        "--emulated-product",
        default=default("emulated-product", "Genoa"),
        help="emulated provider: product of the emulated chip (Milan, Genoa, Turin)",
    )
    add("--kds-url", default=default("kds-url", None), help="AMD KDS base URL (default AMD's)")
    add(
        "--kds-cache-dir",
        type=Path,
        default=default("kds-cache-dir", None),
        help="directory caching KDS certificates and CRLs across restarts",
    )
    add(
        "--policy",
        type=Path,
        default=default("policy", None),
        help="verification policy file (JSON/YAML), as for snp-verify",
    )
    trust = env_value(environ, "trust-ark")
    add(
        "--trust-ark",
        type=Path,
        action="append",
        default=[Path(p) for p in trust.split(os.pathsep)] if trust else [],
        help="extra trusted root (emulated PKI); AMD's roots are always trusted",
    )
    add(
        "--rate",
        type=positive_float,
        default=default("rate", "1.0"),
        help="fresh reports per second allowed on average (firmware is throttled)",
    )
    add(
        "--burst",
        type=positive_int,
        default=default("burst", "5"),
        help="fresh reports allowed in a burst",
    )
    add(
        "--configfs-root",
        type=Path,
        default=default("configfs-root", "/sys/kernel/config/tsm/report"),
        help="configfs-tsm report directory",
    )
    add(
        "--device",
        type=Path,
        default=default("device", "/dev/sev-guest"),
        help="SEV guest device node",
    )
    add(
        "--threads", type=positive_int, default=default("threads", "4"), help="HTTP worker threads"
    )
    add(
        "--log-level",
        default=default("log-level", "INFO"),
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        type=str.upper,
    )
    return parser


def _verifier_flags(args: argparse.Namespace) -> list[tuple[str, object]]:
    """The flags that configure verification, which the agent-mode relay does not do."""
    return [
        ("--kds-url", args.kds_url),
        ("--kds-cache-dir", args.kds_cache_dir),
        ("--policy", args.policy),
        ("--trust-ark", args.trust_ark),
    ]


def parse_config(
    argv: Sequence[str] | None, environ: Mapping[str, str] | None = None
) -> SidecarConfig:
    """Parse flags (and environment); exits with status 2 and a usage message on bad input."""
    parser = build_parser(os.environ if environ is None else environ)
    args = parser.parse_args(argv)
    if not 0 <= args.jitter <= 0.5:
        parser.error(f"--jitter must be between 0 and 0.5, got {args.jitter}")
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be 0..65535, got {args.port}")
    if args.provider == "emulated" and args.emulated_pki_dir is None:
        parser.error("--provider emulated needs --emulated-pki-dir DIR")
    if args.provider == AGENT_PROVIDER:
        verifying = [flag for flag, value in _verifier_flags(args) if value]
        if verifying:
            parser.error(
                f"{', '.join(verifying)}: not with --provider agent, where the node agent "
                "verifies: give them to `sev-attestation agent` instead"
            )
        if args.agent_url is None:
            parser.error("--provider agent needs --agent-url URL")
        try:
            parse_agent_url(args.agent_url)
        except ValueError as error:
            parser.error(f"--agent-url: {error}")
    return SidecarConfig(
        provider=args.provider,
        agent_url=args.agent_url,
        port=args.port,
        bind_address=args.bind_address,
        interval=args.interval,
        jitter=args.jitter,
        emulated_pki_dir=args.emulated_pki_dir,
        emulated_product=args.emulated_product,
        kds_url=args.kds_url,
        kds_cache_dir=args.kds_cache_dir,
        policy=args.policy,
        trust_ark=tuple(args.trust_ark),
        rate=args.rate,
        burst=args.burst,
        configfs_root=args.configfs_root,
        device=args.device,
        threads=args.threads,
        log_level=args.log_level,
    )
