"""Flags shared by the two attesting services (the sidecar with a local provider, and the node
agent): each flag is mirrored by an environment variable ``SEV_ATTESTATION_<FLAG>`` (a flag wins
over its variable), and both services spell, default and validate a shared flag the same way.

No cryptography here: the agent-mode sidecar parses these flags too, and must not load the
verifier (``attestation.verification`` builds it from ``AttestationConfig``).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from akash_snp.guest.select import CERT_TABLE_CHOICES, ProviderConfig

T = TypeVar("T")
ENV_PREFIX = "SEV_ATTESTATION_"
DEFAULT_INTERVAL = 300.0


@dataclass(frozen=True)
class AttestationConfig:
    """How a service attests periodically and verifies: the loop and the verifier's inputs."""

    interval: float = DEFAULT_INTERVAL
    jitter: float = 0.1
    kds_url: str | None = None
    kds_cache_dir: Path | None = None
    policy: Path | None = None
    trust_ark: tuple[Path, ...] = ()


@dataclass(frozen=True)
class ServingConfig:
    """Where and how a service listens, and its firmware budget."""

    bind_address: str
    port: int
    threads: int
    rate: float
    burst: int
    log_level: str


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


class EnvFlags:
    """An argparse parser whose flags default to their ``SEV_ATTESTATION_<FLAG>`` variable."""

    def __init__(self, parser: argparse.ArgumentParser, environ: Mapping[str, str]) -> None:
        self.parser = parser
        self._environ = environ

    def env(self, flag: str) -> str | None:
        return self._environ.get(ENV_PREFIX + flag.removeprefix("--").upper().replace("-", "_"))

    def add(self, flag: str, fallback: str | None, **kwargs: Any) -> None:
        self.parser.add_argument(flag, default=self.env(flag) or fallback, **kwargs)

    def add_paths(self, flag: str, help: str) -> None:  # (argparse's name)
        """A repeatable path flag; its variable holds a ``os.pathsep``-separated list."""
        listed = self.env(flag)
        self.parser.add_argument(
            flag,
            type=Path,
            action="append",
            default=[Path(p) for p in listed.split(os.pathsep)] if listed else [],
            help=help,
        )


def add_guest_flags(flags: EnvFlags, choices: tuple[str, ...], provider_help: str) -> None:
    """--provider and where each guest interface lives."""
    flags.add("--provider", "auto", choices=choices, help=provider_help)
    flags.add(
        "--configfs-root",
        "/sys/kernel/config/tsm/report",
        type=Path,
        help="configfs-tsm report directory",
    )
    flags.add("--device", "/dev/sev-guest", type=Path, help="SEV guest device node")
    flags.add(
        "--emulated-pki-dir",
        None,
        type=Path,
        help="emulated provider: reuse or create the test PKI here (root: DIR/ark.pem)",
    )
    flags.add(
        "--emulated-product",
        "Genoa",
        help="emulated provider: product of the emulated chip (Milan, Genoa, Turin)",
    )
    flags.add(
        "--emulated-cert-table",
        "full",
        choices=CERT_TABLE_CHOICES,
        help="emulated provider: attach VCEK, ASK and ARK (full) or no certificate (none: the "
        "verifier fetches them from KDS)",
    )


def add_attestation_flags(flags: EnvFlags, policy_help: str) -> None:
    """The periodic loop and the verifier's inputs (``AttestationConfig``)."""
    flags.add(
        "--interval",
        str(DEFAULT_INTERVAL),
        type=positive_float,
        help="seconds between periodic attestations",
    )
    flags.add(
        "--jitter",
        "0.1",
        type=float,
        help="fraction of the interval to randomise each wait by (0..0.5)",
    )
    flags.add("--kds-url", None, help="AMD KDS base URL (default AMD's)")
    flags.add(
        "--kds-cache-dir",
        None,
        type=Path,
        help="directory keeping KDS certificates and CRLs across restarts",
    )
    flags.add("--policy", None, type=Path, help=policy_help)
    flags.add_paths(
        "--trust-ark", "extra trusted root (emulated PKI); AMD's roots are always trusted"
    )


def add_serving_flags(
    flags: EnvFlags, port: int, bind_help: str, threads: int, rate: float, burst: int
) -> None:
    """Listening address, worker threads, firmware budget and log level (``ServingConfig``)."""
    flags.add("--bind-address", "0.0.0.0", help=bind_help)  # noqa: S104
    flags.add(
        "--port", str(port), type=int, help="HTTP port (0: any free port, logged at start-up)"
    )
    flags.add(
        "--threads",
        str(threads),
        type=positive_int,
        help="HTTP handler threads (idle or slow connections hold none)",
    )
    flags.add(
        "--rate",
        str(rate),
        type=positive_float,
        help="fresh reports per second allowed on average (firmware is throttled)",
    )
    flags.add("--burst", str(burst), type=positive_int, help="fresh reports allowed in a burst")
    flags.add("--log-level", "INFO", type=str.upper, choices=["DEBUG", "INFO", "WARNING", "ERROR"])


def _from_args(record: type[T], args: argparse.Namespace, **renamed: str) -> T:
    """The ``record`` dataclass whose fields are the flags of the same names (``renamed``: field
    name to flag name where they differ)."""
    names = [f.name for f in fields(record)]  # type: ignore[arg-type]
    return record(**{name: getattr(args, renamed.get(name, name)) for name in names})


def guest_config(args: argparse.Namespace) -> ProviderConfig:
    return _from_args(ProviderConfig, args, kind="provider")


def attestation_config(args: argparse.Namespace) -> AttestationConfig:
    config = _from_args(AttestationConfig, args)
    return replace(config, trust_ark=tuple(config.trust_ark))


def serving_config(args: argparse.Namespace) -> ServingConfig:
    return _from_args(ServingConfig, args)


@dataclass(frozen=True)
class ServiceFlags:
    """What differs between the two services' flag sets."""

    prog: str
    description: str
    provider_choices: tuple[str, ...]
    provider_help: str
    policy_help: str
    port: int
    bind_help: str
    threads: int
    rate: float
    burst: int


def service_parser(flags: ServiceFlags, environ: Mapping[str, str]) -> EnvFlags:
    """The shared flag set of a service, to which it may add its own."""
    parser = argparse.ArgumentParser(
        prog=flags.prog,
        description=f"{flags.description} Every flag can also be set as {ENV_PREFIX}<FLAG> "
        f"(e.g. {ENV_PREFIX}PORT).",
    )
    env_flags = EnvFlags(parser, environ)
    add_guest_flags(env_flags, flags.provider_choices, flags.provider_help)
    add_attestation_flags(env_flags, flags.policy_help)
    add_serving_flags(
        env_flags, flags.port, flags.bind_help, flags.threads, flags.rate, flags.burst
    )
    return env_flags


def check_common(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Usage errors (exit 2) for values the types alone cannot refuse."""
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be 0..65535, got {args.port}")
    if not 0 <= args.jitter <= 0.5:
        parser.error(f"--jitter must be between 0 and 0.5, got {args.jitter}")
    if args.provider == "emulated" and args.emulated_pki_dir is None:
        parser.error("--provider emulated needs --emulated-pki-dir DIR")
