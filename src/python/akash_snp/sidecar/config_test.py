"""Flags and their environment-variable mirrors."""

from __future__ import annotations

import pytest

from akash_snp.sidecar.config import parse_config


def test_defaults() -> None:
    config = parse_config([], environ={})
    assert config.provider == "auto"
    assert (config.serving.port, config.serving.threads, config.serving.burst) == (8790, 4, 5)
    assert config.attestation.interval == 300.0
    assert config.guest.emulated_pki_dir is None


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


def test_agent_provider_refuses_the_verifier_flags(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--provider=agent", "--agent-url=http://10.0.0.7:8791", "--kds-cache-dir=/k"]
    with pytest.raises(SystemExit):
        parse_config([*argv, "--trust-ark=/a.pem"], environ={})
    assert "--kds-cache-dir, --trust-ark: not with --provider agent" in capsys.readouterr().err
