"""The agent's flags and their environment mirrors."""

from __future__ import annotations

from pathlib import Path

import pytest

from akash_snp.agent.config import parse_agent_config


def test_defaults() -> None:
    config = parse_agent_config([], environ={})
    assert (config.provider, config.bind_address, config.port) == ("auto", "0.0.0.0", 8791)
    assert config.interval == 300.0
    assert config.kds_url is None


def test_environment_mirrors_flags_and_flags_win() -> None:
    environ = {
        "SEV_ATTESTATION_PROVIDER": "configfs-tsm",
        "SEV_ATTESTATION_PORT": "9000",
        "SEV_ATTESTATION_RATE": "0.5",
        "SEV_ATTESTATION_KDS_CACHE_DIR": "/var/cache/kds",
    }
    config = parse_agent_config([], environ=environ)
    assert (config.provider, config.port, config.rate) == ("configfs-tsm", 9000, 0.5)
    assert config.kds_cache_dir == Path("/var/cache/kds")
    assert parse_agent_config(["--port", "9100"], environ=environ).port == 9100


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--provider", "agent"], "invalid choice"),
        (["--burst", "0"], "must be > 0"),
        (["--port", "70000"], "--port must be"),
        (["--provider", "emulated"], "needs --emulated-pki-dir"),
    ],
)
def test_bad_flags_are_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_request:
        parse_agent_config(argv, environ={})
    assert exit_request.value.code == 2
    assert message in capsys.readouterr().err
