"""The `sev-webhook` entry point: subcommand dispatch and one-line usage errors (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from akash_snp.webhook.main import main


def test_certs_subcommand_dispatches(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["certs", "--out-dir", str(tmp_path)]) == 0
    assert (tmp_path / "tls.crt").is_file()
    assert capsys.readouterr().out.strip()


@pytest.mark.parametrize("prefix", [[], ["serve"]])
def test_missing_certificate_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], prefix: list[str]
) -> None:
    argv = [*prefix, "--tls-cert", str(tmp_path / "a.crt"), "--tls-key", str(tmp_path / "a.key")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "a.crt does not exist" in err


def test_invalid_config_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["certs", "--out-dir", str(tmp_path)]) == 0
    (tmp_path / "config.yaml").write_text("injection_mode: sidecar\n")
    argv = ["--tls-cert", str(tmp_path / "tls.crt"), "--tls-key", str(tmp_path / "tls.key"),
            "--config", str(tmp_path / "config.yaml")]  # fmt: skip
    assert main(argv) == 2
    assert "injection_mode: 'sidecar' is not one of" in capsys.readouterr().err


def test_bad_port_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--tls-cert", "x", "--tls-key", "y", "--port", "70000"]
    assert main(argv) == 2
    assert "--port must be 1..65535" in capsys.readouterr().err


def test_missing_flags_are_an_argparse_error() -> None:
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
