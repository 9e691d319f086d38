"""Sidecar configuration: command-line flags, each mirrored by an environment variable
(``SEV_ATTESTATION_<FLAG>``, e.g. ``SEV_ATTESTATION_PROVIDER=ioctl``); a flag wins over its
variable. The flags shared with the node agent come from ``attestation.settings``. Validation
errors become argparse usage errors, never tracebacks."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from akash_snp.attestation.settings import (
    AttestationConfig,
    ServiceFlags,
    ServingConfig,
    attestation_config,
    check_common,
    guest_config,
    service_parser,
    serving_config,
)
from akash_snp.guest.agent_client import parse_agent_url
from akash_snp.guest.select import PROVIDER_CHOICES, ProviderConfig

DEFAULT_PORT = 8790
AGENT_PROVIDER = "agent"
SIDECAR_PROVIDER_CHOICES = (*PROVIDER_CHOICES, AGENT_PROVIDER)
# The verifier's flags: the node agent's in agent mode, where the sidecar only relays.
_VERIFIER_FLAGS = ("kds_url", "kds_cache_dir", "policy", "trust_ark")


@dataclass(frozen=True)
class SidecarConfig:
    """Everything ``main`` needs to build the service."""

    agent_url: str | None
    guest: ProviderConfig
    attestation: AttestationConfig
    serving: ServingConfig

    @property
    def provider(self) -> str:
        return self.guest.kind


FLAGS = ServiceFlags(
    prog="sev-attestation",
    description="SEV-SNP attestation sidecar: serves verified reports at /verify. "
    "`sev-attestation agent --help` describes the node attestation agent.",
    provider_choices=SIDECAR_PROVIDER_CHOICES,
    provider_help="guest interface: auto (configfs-tsm, then /dev/sev-guest), configfs-tsm, "
    "ioctl, emulated (test PKI; its reports never pass against AMD's roots), or agent (relay "
    "the node attestation agent at --agent-url, which obtains and verifies the reports: no "
    "device access and no verifier here; --kds-url, --kds-cache-dir, --policy and --trust-ark "
    "are then the agent's flags, refused here, and --interval is unused: /verify shows the "
    "agent's periodic attestation)",
    policy_help="verification policy file (JSON/YAML), as for snp-verify",
    port=DEFAULT_PORT,
    bind_help="address to listen on (the pod network needs all interfaces)",
    threads=4,
    rate=1.0,
    burst=5,
)


def build_parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    """The flag set; defaults come from the environment, then from the built-in values."""
    flags = service_parser(FLAGS, environ)
    flags.add(
        "--agent-url",
        None,
        help="agent provider: the node agent's base URL, e.g. http://$(HOST_IP):8791",
    )
    return flags.parser


def parse_config(
    argv: Sequence[str] | None, environ: Mapping[str, str] | None = None
) -> SidecarConfig:
    """Parse flags (and environment); exits with status 2 and a usage message on bad input."""
    parser = build_parser(os.environ if environ is None else environ)
    args = parser.parse_args(argv)
    check_common(parser, args)
    if args.provider == AGENT_PROVIDER:
        verifying = [
            "--" + name.replace("_", "-") for name in _VERIFIER_FLAGS if getattr(args, name)
        ]
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
        agent_url=args.agent_url,
        guest=guest_config(args),
        attestation=attestation_config(args),
        serving=serving_config(args),
    )
