"""The agent's own flag defaults (the shared flags are tested in attestation.settings_test)."""

from __future__ import annotations

import pytest

from akash_snp.agent.config import parse_agent_config


def test_defaults() -> None:
    config = parse_agent_config([], environ={})
    assert (config.guest.kind, config.serving.bind_address, config.serving.port) == (
        "auto",
        "0.0.0.0",
        8791,
    )
    assert (config.serving.threads, config.serving.rate, config.serving.burst) == (16, 2.0, 10)
    assert config.attestation.interval == 300.0


def test_the_agent_has_no_agent_provider(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_request:
        parse_agent_config(["--provider", "agent"], environ={})
    assert exit_request.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
