"""``snp-verify report`` driven through ``main()`` with real files: exit codes and JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from akash_snp.attest.constants import Product
from akash_snp.cli.main import main
from akash_snp.emulation.pki import EmulatedAmd
from akash_snp.testing.fake_kds import FakeKds


def _case(manifest: dict[str, Any], case_id: str) -> dict[str, Any]:
    case: dict[str, Any] = next(c for c in manifest["cases"] if c["id"] == case_id)
    return case


def _report_args(real: Path, case: dict[str, Any], report: Path | None = None) -> list[str]:
    """``report`` of a real recording with its endorsement key and chain, offline."""
    return [
        "report",
        "--report",
        str(report or real / case["report"]),
        "--certs",
        str(real / case["endorsement_cert"]),
        "--certs",
        str(real / case["chain"]),
        "--offline",
    ]


def test_real_report_is_genuine_with_json(
    snp_real_dir: Path, snp_real_manifest: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    case = _case(snp_real_manifest, "genoa-zen4c-v3-vcek")
    code = main([*_report_args(snp_real_dir, case), "--at", case["verify_at"], "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["verdict"] == "genuine"
    assert out["product"] == "Genoa"
    assert out["signing_key"] == "VCEK"
    assert out["report"]["measurement"] == case["measurement_hex"]
    assert {c["name"] for c in out["checks"]} >= {"report_signature", "ark_trusted"}


def test_expired_vlek_is_rejected_with_the_check_named(
    snp_real_dir: Path, snp_real_manifest: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    case = _case(snp_real_manifest, "milan-v3-vlek-aws")
    code = main(_report_args(snp_real_dir, case))
    captured = capsys.readouterr()
    assert code == 1
    assert "rejected: endorsement_key_validity" in captured.err
    assert "verdict: rejected" in captured.out


def test_hex_report_and_policy_file(
    snp_real_dir: Path,
    snp_real_manifest: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    case = _case(snp_real_manifest, "milan-v2-vcek-gsg")
    hex_report = tmp_path / "report.hex"
    raw = (snp_real_dir / case["report"]).read_bytes()
    hex_report.write_text("\n".join(raw.hex()[i : i + 64] for i in range(0, 2368, 64)))
    args = [
        "report",
        "--report",
        str(hex_report),
        "--certs",
        str(snp_real_dir / case["endorsement_cert"]),
        "--certs",
        str(snp_real_dir / case["chain"]),
        "--at",
        case["verify_at"],
        "--offline",
    ]
    assert main(args) == 1  # a debug guest under the default policy
    assert "rejected: policy.debug" in capsys.readouterr().err
    policy = tmp_path / "policy.yaml"
    policy.write_text("allow_debug: true\nmax_vmpl: 0\n")
    assert main([*args, "--policy", str(policy)]) == 0


def test_emulated_report_needs_trust_ark(
    emulated_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case_dir = emulated_dir / "reports" / "turin-v5-vlek"
    args = [
        "report",
        "--report",
        str(case_dir / "report.bin"),
        "--certs",
        str(case_dir / "certs.bin"),
        "--at",
        "2025-06-01T00:00:00Z",
        "--offline",
    ]
    assert main(args) == 1
    assert "rejected: ark_trusted" in capsys.readouterr().err
    assert main([*args, "--trust-ark", str(emulated_dir / "pki" / "Turin" / "ark.pem")]) == 0


def test_crl_flag(emulated_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case_dir = emulated_dir / "reports" / "genoa-v3-vcek"
    pki = emulated_dir / "pki" / "Genoa"
    args = [
        "report",
        "--report",
        str(case_dir / "report.bin"),
        "--certs",
        str(case_dir / "certs.bin"),
        "--at",
        "2025-06-01",
        "--offline",
        "--trust-ark",
        str(pki / "ark.pem"),
    ]
    assert main([*args, "--crl", str(pki / "vcek.crl")]) == 0
    assert main([*args, "--crl", str(pki / "vcek_revoked_ask.crl")]) == 1
    assert "rejected: intermediate_not_revoked" in capsys.readouterr().err


def test_missing_pieces_are_fetched_from_kds(
    fake_kds: FakeKds,
    emulated_pkis: dict[Product, EmulatedAmd],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pki = emulated_pkis[Product.MILAN]
    report = tmp_path / "report.bin"
    report.write_bytes(pki.attest(version=5).report)
    (tmp_path / "ark.pem").write_bytes(pki.ark_pem())
    base = [
        "report",
        "--report",
        str(report),
        "--at",
        "2025-06-01T00:00:00+00:00",
        "--trust-ark",
        str(tmp_path / "ark.pem"),
        "--kds-cache",
        str(tmp_path / "cache"),
    ]
    assert main([*base, "--offline"]) == 2
    assert "offline: the VCEK is not cached" in capsys.readouterr().err
    assert main([*base, "--kds-url", fake_kds.url]) == 0
    assert len(fake_kds.requests) == 2
    assert main([*base, "--offline"]) == 0  # now served from the cache directory
    assert len(fake_kds.requests) == 2


def test_product_flag_names_the_product_of_a_v2_report(
    fake_kds: FakeKds, emulated_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A v2 report carries no CPUID: given no certificate, only --product says what to fetch."""
    case = emulated_dir / "reports" / "milan-v2-vcek"
    base = [
        "report",
        "--report",
        str(case / "report.bin"),
        "--at",
        "2025-06-01T00:00:00+00:00",
        "--trust-ark",
        str(emulated_dir / "pki" / "Milan" / "ark.pem"),
        "--kds-url",
        fake_kds.url,
    ]
    assert main(base) == 2
    assert "product" in capsys.readouterr().err
    assert main([*base, "--product", "Milan"]) == 0
    assert any("/vcek/v1/Milan/" in request for request in fake_kds.requests)
    assert main([*base, "--product", "Genoa"]) != 0


@pytest.mark.parametrize(
    ("files", "extra", "message"),
    [
        ({"report.bin": b"short"}, [], "must be 1184 raw bytes"),
        ({"report.bin": b"\0" * 1184, "c.pem": b"junk"}, ["--certs", "{d}/c.pem"], "neither PEM"),
        ({"report.bin": b"\0" * 1184}, ["--certs", "{d}/missing.pem"], "cannot read"),
        (
            {"report.bin": b"\0" * 1184, "p.yaml": b"bogus: 1"},
            ["--policy", "{d}/p.yaml"],
            "unknown policy fields",
        ),
        ({"report.bin": b"\0" * 1184}, ["--at", "yesterday"], "not an ISO 8601 time"),
        ({"report.bin": b"\0" * 1184, "r.pem": b"x"}, ["--trust-ark", "{d}/r.pem"], "root file"),
    ],
)
def test_unusable_input_exits_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, bytes],
    extra: list[str],
    message: str,
) -> None:
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    argv = ["report", "--report", str(tmp_path / "report.bin"), "--offline"]
    argv += [a.format(d=tmp_path) for a in extra]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    # under --json, stdout holds one JSON object even then
    assert main([*argv, "--json"]) == 2
    error = json.loads(capsys.readouterr().out)
    assert error["verdict"] == "error"
    assert message in error["error"]


def test_forged_product_name_is_a_rejection_naming_the_check(
    snp_real_dir: Path,
    snp_real_manifest: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A real Genoa VCEK whose productName extension was edited to "Turin": forged evidence is a
    rejection (exit 1) with the failing checks named, not unusable input."""
    case = _case(snp_real_manifest, "genoa-zen4c-v3-vcek")
    vcek = (snp_real_dir / case["endorsement_cert"]).read_bytes()
    if vcek.startswith(b"-----"):
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding

        vcek = x509.load_pem_x509_certificate(vcek).public_bytes(Encoding.DER)
    assert vcek.count(b"\x16\x05Genoa") == 1  # the IA5String of productName
    (tmp_path / "forged.der").write_bytes(vcek.replace(b"\x16\x05Genoa", b"\x16\x05Turin"))
    argv = ["report", "--report", str(snp_real_dir / case["report"]), "--certs"]
    argv += [str(tmp_path / "forged.der"), "--certs", str(snp_real_dir / case["chain"])]
    code = main([*argv, "--at", case["verify_at"], "--offline", "--json"])
    captured = capsys.readouterr()
    assert code == 1
    verdict = json.loads(captured.out)
    failed = {c["name"] for c in verdict["checks"] if not c["ok"]}
    assert failed == {"endorsement_product_name", "endorsement_key_signed_by_intermediate"}
    assert "rejected: endorsement_product_name: VCEK productName 'Turin'" in captured.err


def test_malformed_report_is_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "report.bin").write_bytes(b"\0" * 1184)
    assert main(["report", "--report", str(tmp_path / "report.bin"), "--offline", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["verdict"] == "rejected"
    assert out["checks"][0]["name"] == "report_format"


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["report"]) == 2
    assert "--report" in capsys.readouterr().err
    assert main(["report", "--json"]) == 2
    captured = capsys.readouterr()
    assert "the following arguments are required: --report" in captured.err
    assert "--report" in json.loads(captured.out)["error"]
    assert main(["--help"]) == 0


def test_runs_as_a_real_process(snp_real_dir: Path, snp_real_manifest: dict[str, Any]) -> None:
    import os
    import subprocess
    import sys

    case = _case(snp_real_manifest, "milan-v2-vcek-virtee")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "akash_snp.cli.main",
            *_report_args(snp_real_dir, case),
            "--at",
            case["verify_at"],
            "--json",
        ],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["verdict"] == "genuine"
