"""Flags and their environment-variable mirrors."""

from __future__ import annotations

from pathlib import Path

import pytest

from akash_snp.sidecar.config import parse_config


def test_defaults() -> None:
    config = parse_config([], environ={})
    assert config.provider == "auto"
    assert config.port == 8790
    assert config.interval == 300.0
    assert config.emulated_pki_dir is None
    assert config.trust_ark == ()


def test_environment_mirrors_flags_and_flags_win() -> None:
    environ = {
        "SEV_ATTESTATION_PROVIDER": "ioctl",
        "SEV_ATTESTATION_PORT": "9000",
        "SEV_ATTESTATION_INTERVAL": "60",
        "SEV_ATTESTATION_EMULATED_PKI_DIR": "/pki",
        "SEV_ATTESTATION_TRUST_ARK": "/a.pem:/b.pem",
    }
    config = parse_config([], environ=environ)
    assert (config.provider, config.port, config.interval) == ("ioctl", 9000, 60.0)
    assert config.emulated_pki_dir == Path("/pki")
    assert config.trust_ark == (Path("/a.pem"), Path("/b.pem"))
    assert parse_config(["--port", "9100"], environ=environ).port == 9100


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--provider", "snpguest"], "invalid choice"),
        (["--interval", "0"], "must be > 0"),
        (["--interval", "soon"], "not a number"),
        (["--jitter", "0.9"], "--jitter must be between"),
        (["--port", "70000"], "--port must be"),
        (["--provider", "emulated"], "needs --emulated-pki-dir"),
    ],
)
def test_bad_flags_are_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_request:
        parse_config(argv, environ={})
    assert exit_request.value.code == 2
    assert message in capsys.readouterr().err


def test_bad_environment_value_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_config([], environ={"SEV_ATTESTATION_BURST": "-1"})
    assert "must be > 0" in capsys.readouterr().err


def test_agent_provider_needs_a_url(capsys: pytest.CaptureFixture[str]) -> None:
    config = parse_config(
        [], environ={"SEV_ATTESTATION_PROVIDER": "agent",
                     "SEV_ATTESTATION_AGENT_URL": "http://10.0.0.7:8791"}
    )  # fmt: skip
    assert (config.provider, config.agent_url) == ("agent", "http://10.0.0.7:8791")
    for argv in (["--provider", "agent"], ["--provider=agent", "--agent-url=ftp://x"]):
        with pytest.raises(SystemExit):
            parse_config(argv, environ={})
    assert "--agent-url" in capsys.readouterr().err
