"""Agent configuration: flags, each mirrored by ``SEV_ATTESTATION_<FLAG>`` exactly as the
sidecar's (a flag wins over its variable); bad values are usage errors (exit 2)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from akash_snp.guest.select import CERT_TABLE_CHOICES, PROVIDER_CHOICES, CertTableChoice
from akash_snp.sidecar.config import ENV_PREFIX, env_value, positive_float, positive_int

DEFAULT_AGENT_PORT = 8791


@dataclass(frozen=True)
class AgentConfig:
    """Everything the agent's ``main`` needs."""

    provider: str
    emulated_pki_dir: Path | None
    emulated_product: str
    emulated_cert_table: CertTableChoice
    configfs_root: Path
    device: Path
    bind_address: str
    port: int
    rate: float
    burst: int
    kds_url: str | None
    kds_cache_dir: Path | None
    interval: float
    trust_ark: tuple[Path, ...]
    policy: Path | None
    threads: int
    log_level: str


def build_parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    """The agent's flag set; defaults come from the environment, then built-in values."""

    def default(flag: str, fallback: str | None) -> str | None:
        return env_value(environ, flag) or fallback

    parser = argparse.ArgumentParser(
        prog="sev-attestation agent",
        description="Node attestation agent: serves verified nonce-bound SEV-SNP attestations "
        "at /v1/verify (relayed by agent-mode sidecars), raw reports at /v1/report and a "
        "caching AMD KDS proxy at /kds/. "
        f"Every flag can also be set as {ENV_PREFIX}<FLAG> (e.g. {ENV_PREFIX}PORT).",
    )
    add = parser.add_argument
    add(
        "--provider",
        choices=PROVIDER_CHOICES,
        default=default("provider", "auto"),
        help="guest interface: auto (configfs-tsm, then /dev/sev-guest), configfs-tsm, ioctl, "
        "or emulated (test PKI; its reports never pass against AMD's roots)",
    )
    add("--emulated-pki-dir", type=Path, default=default("emulated-pki-dir", None),
        help="emulated provider: reuse or create the test PKI here (root: DIR/ark.pem)")
    add("--emulated-product", default=default("emulated-product", "Genoa"),
        help="emulated provider: Milan, Genoa or Turin")  # fmt: skip
    add("--emulated-cert-table", choices=CERT_TABLE_CHOICES,
        default=default("emulated-cert-table", "full"),
        help="emulated provider: attach VCEK, ASK and ARK (full) or no certificate (none: "
        "sidecars then fetch them from KDS through the agent)")  # fmt: skip
    add("--configfs-root", type=Path,
        default=default("configfs-root", "/sys/kernel/config/tsm/report"),
        help="configfs-tsm report directory")  # fmt: skip
    add("--device", type=Path, default=default("device", "/dev/sev-guest"),
        help="SEV guest device node")  # fmt: skip
    add("--bind-address", default=default("bind-address", "0.0.0.0"),  # noqa: S104
        help="address to listen on (hostNetwork: the node's addresses)")  # fmt: skip
    add("--port", type=int, default=default("port", str(DEFAULT_AGENT_PORT)),
        help="HTTP port (0: any free port, logged at start-up)")  # fmt: skip
    add("--rate", type=positive_float, default=default("rate", "2.0"),
        help="firmware reports per second for the whole node, on average")  # fmt: skip
    add("--burst", type=positive_int, default=default("burst", "10"),
        help="firmware reports allowed in a burst, for the whole node")  # fmt: skip
    add("--kds-url", default=default("kds-url", None),
        help="upstream AMD KDS (default AMD's)")  # fmt: skip
    add("--kds-cache-dir", type=Path, default=default("kds-cache-dir", None),
        help="directory keeping KDS certificates and CRLs across restarts")  # fmt: skip
    add("--interval", type=positive_float, default=default("interval", "300"),
        help="seconds between the agent's attestations of its own node")  # fmt: skip
    trust = env_value(environ, "trust-ark")
    add("--trust-ark", type=Path, action="append",
        default=[Path(p) for p in trust.split(os.pathsep)] if trust else [],
        help="extra trusted root for the node's attestations (emulated PKI)")  # fmt: skip
    add("--policy", type=Path, default=default("policy", None),
        help="verification policy file (JSON/YAML, as for snp-verify) for /v1/status and "
        "/v1/verify, hence for every agent-mode sidecar of the node")  # fmt: skip
    add("--threads", type=positive_int, default=default("threads", "16"),
        help="HTTP worker threads (a request waiting for a slow KDS holds one)")  # fmt: skip
    add("--log-level", default=default("log-level", "INFO"), type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"])  # fmt: skip
    return parser


def parse_agent_config(
    argv: Sequence[str] | None, environ: Mapping[str, str] | None = None
) -> AgentConfig:
    """Parse flags (and environment); exits with status 2 and a usage message on bad input."""
    parser = build_parser(os.environ if environ is None else environ)
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be 0..65535, got {args.port}")
    if args.provider == "emulated" and args.emulated_pki_dir is None:
        parser.error("--provider emulated needs --emulated-pki-dir DIR")
    return AgentConfig(
        provider=args.provider,
        emulated_pki_dir=args.emulated_pki_dir,
        emulated_product=args.emulated_product,
        emulated_cert_table=args.emulated_cert_table,
        configfs_root=args.configfs_root,
        device=args.device,
        bind_address=args.bind_address,
        port=args.port,
        rate=args.rate,
        burst=args.burst,
        kds_url=args.kds_url,
        kds_cache_dir=args.kds_cache_dir,
        interval=args.interval,
        trust_ark=tuple(args.trust_ark),
        policy=args.policy,
        threads=args.threads,
        log_level=args.log_level,
    )
