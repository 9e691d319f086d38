"""Agent configuration: flags, each mirrored by ``SEV_ATTESTATION_<FLAG>`` exactly as the
sidecar's (``attestation.settings``; a flag wins over its variable); bad values are usage errors
(exit 2)."""

from __future__ import annotations

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
from akash_snp.guest.select import PROVIDER_CHOICES, ProviderConfig

DEFAULT_AGENT_PORT = 8791


@dataclass(frozen=True)
class AgentConfig:
    """Everything the agent's ``main`` needs."""

    guest: ProviderConfig
    attestation: AttestationConfig
    serving: ServingConfig


FLAGS = ServiceFlags(
    prog="sev-attestation agent",
    description="Node attestation agent: serves verified nonce-bound SEV-SNP attestations at "
    "/v1/verify (relayed by agent-mode sidecars), raw reports at /v1/report and a caching AMD "
    "KDS proxy at /kds/.",
    provider_choices=PROVIDER_CHOICES,
    provider_help="guest interface: auto (configfs-tsm, then /dev/sev-guest), configfs-tsm, "
    "ioctl, or emulated (test PKI; its reports never pass against AMD's roots)",
    policy_help="verification policy file (JSON/YAML, as for snp-verify) for /v1/status and "
    "/v1/verify, hence for every agent-mode sidecar of the node",
    port=DEFAULT_AGENT_PORT,
    bind_help="address to listen on (hostNetwork: the node's addresses)",
    # a request waiting for a slow KDS holds a handler thread: more than the sidecar's
    threads=16,
    rate=2.0,
    burst=10,
)


def parse_agent_config(
    argv: Sequence[str] | None, environ: Mapping[str, str] | None = None
) -> AgentConfig:
    """Parse flags (and environment); exits with status 2 and a usage message on bad input."""
    parser = service_parser(FLAGS, os.environ if environ is None else environ).parser
    args = parser.parse_args(argv)
    check_common(parser, args)
    return AgentConfig(
        guest=guest_config(args),
        attestation=attestation_config(args),
        serving=serving_config(args),
    )
