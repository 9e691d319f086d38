"""The flags the sidecar and the node agent share: environment mirrors, validation, grouping."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from akash_snp.attestation.settings import (
    ServiceFlags,
    attestation_config,
    check_common,
    guest_config,
    service_parser,
    serving_config,
)
from akash_snp.guest.select import PROVIDER_CHOICES

FLAGS = ServiceFlags(
    prog="test",
    description="A service.",
    provider_choices=PROVIDER_CHOICES,
    provider_help="provider",
    policy_help="policy",
    port=8000,
    bind_help="bind",
    threads=4,
    rate=1.0,
    burst=5,
)


def _parse(argv: list[str], environ: dict[str, str]) -> argparse.Namespace:
    parser = service_parser(FLAGS, environ).parser
    args = parser.parse_args(argv)
    check_common(parser, args)
    return args


def test_defaults_group_into_the_three_configs() -> None:
    args = _parse([], {})
    guest, attestation, serving = guest_config(args), attestation_config(args), serving_config(args)
    assert (guest.kind, guest.device, guest.emulated_cert_table) == (
        "auto",
        Path("/dev/sev-guest"),
        "full",
    )
    assert (attestation.interval, attestation.kds_url, attestation.trust_ark) == (300.0, None, ())
    assert (serving.port, serving.threads, serving.rate) == (8000, 4, 1.0)
    assert serving.log_level == "INFO"


def test_environment_mirrors_flags_and_flags_win() -> None:
    environ = {
        "SEV_ATTESTATION_PROVIDER": "ioctl",
        "SEV_ATTESTATION_PORT": "9000",
        "SEV_ATTESTATION_INTERVAL": "60",
        "SEV_ATTESTATION_KDS_CACHE_DIR": "/var/cache/kds",
        "SEV_ATTESTATION_TRUST_ARK": "/a.pem:/b.pem",
        "SEV_ATTESTATION_LOG_LEVEL": "debug",
    }
    args = _parse([], environ)
    assert (args.provider, args.port, args.interval) == ("ioctl", 9000, 60.0)
    assert attestation_config(args).kds_cache_dir == Path("/var/cache/kds")
    assert attestation_config(args).trust_ark == (Path("/a.pem"), Path("/b.pem"))
    assert serving_config(args).log_level == "DEBUG"
    assert _parse(["--port", "9100", "--trust-ark", "/c.pem"], environ).port == 9100


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        (["--provider", "snpguest"], {}, "invalid choice"),
        (["--interval", "0"], {}, "must be > 0"),
        (["--interval", "soon"], {}, "not a number"),
        (["--jitter", "0.9"], {}, "--jitter must be between"),
        (["--port", "70000"], {}, "--port must be"),
        (["--provider", "emulated"], {}, "needs --emulated-pki-dir"),
        ([], {"SEV_ATTESTATION_BURST": "-1"}, "must be > 0"),
        (["--emulated-cert-table", "half"], {}, "invalid choice"),
    ],
)
def test_bad_values_are_usage_errors(
    argv: list[str], environ: dict[str, str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_request:
        _parse(argv, environ)
    assert exit_request.value.code == 2
    assert message in capsys.readouterr().err
