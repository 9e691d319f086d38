"""``snp-verify url`` against a real sidecar process (emulated provider) and against a local
server replaying an old answer."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from akash_snp.cli.main import main
from akash_snp.cli.url_command import verify_url_target
from akash_snp.testing.sidecar_process import SidecarProcess


def snp_verify(*argv: str) -> int:
    return main(list(argv))


@pytest.fixture(scope="module")
def sidecar(emulated_pki_dir: Path) -> Iterator[SidecarProcess]:
    flags = [
        "--provider",
        "emulated",
        "--emulated-pki-dir",
        str(emulated_pki_dir),
        "--rate",
        "100",
        "--burst",
        "100",
    ]
    with SidecarProcess(flags) as process:
        yield process


class Replay:
    """A tiny HTTP server answering every GET with one fixed JSON body."""

    def __init__(self, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/verify"

    def __enter__(self) -> Replay:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_passes_with_the_emulated_root(
    sidecar: SidecarProcess, emulated_pki_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ark = str(emulated_pki_dir / "ark.pem")
    code = snp_verify("url", sidecar.url, "--trust-ark", ark, "--offline")
    out = capsys.readouterr().out
    assert code == 0, out
    assert "verdict: genuine" in out
    assert "[ok] policy.nonce: REPORT_DATA commits to nonce" in out
    assert "does not prove which container" in out


def test_fails_without_trusting_the_emulated_root(
    sidecar: SidecarProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    code = snp_verify("url", f"{sidecar.url}/verify", "--offline")
    captured = capsys.readouterr()
    assert code == 1
    assert "rejected: ark_trusted" in captured.err


def test_json_output_with_chosen_nonce(
    sidecar: SidecarProcess, emulated_pki_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = snp_verify(
        "url",
        sidecar.url,
        "--nonce",
        "c0ffee",
        "--json",
        "--offline",
        "--trust-ark",
        str(emulated_pki_dir / "ark.pem"),
    )
    body = json.loads(capsys.readouterr().out)
    assert code == 0
    assert body["verdict"] == "genuine"
    assert body["nonce"] == "c0ffee"
    assert body["sidecar_status"] == "failed"  # the sidecar was not told to trust this root
    assert {
        "name": "policy.nonce",
        "ok": True,
        "detail": "REPORT_DATA commits to nonce c0ffee",
    } in body["checks"]
    # the chain shown is the chain verified, here the certificates of the answer
    evidence = body["evidence"]
    assert [evidence[k]["role"] for k in ("endorsement_key", "intermediate", "ark")] == [
        "VCEK",
        "ASK",
        "ARK",
    ]
    assert {item["source"] for item in evidence.values()} == {"supplied"}


def test_replayed_answer_is_rejected(
    sidecar: SidecarProcess, emulated_pki_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = requests.get(f"{sidecar.url}/verify", params={"nonce": "01"}, timeout=30).json()
    # the sidecar shows its own evidence: the emulated firmware attached all three certificates
    assert {item["source"] for item in old["evidence"].values()} == {"certificate table"}
    with Replay(old) as replay:
        ark = str(emulated_pki_dir / "ark.pem")
        code = snp_verify("url", replay.url, "--offline", "--trust-ark", ark)
    captured = capsys.readouterr()
    assert code == 1
    assert "[FAIL] policy.nonce" in captured.out
    assert "rejected: policy.nonce" in captured.err


def test_no_nonce_reads_the_periodic_report(
    sidecar: SidecarProcess, emulated_pki_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ark = str(emulated_pki_dir / "ark.pem")
    code = snp_verify("url", sidecar.url, "--no-nonce", "--offline", "--trust-ark", ark)
    out = capsys.readouterr().out
    assert code == 0
    assert "policy.nonce" not in out
    assert "proves nothing about freshness" in out


def test_unavailable_sidecar_is_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    body = {
        "attestation_status": "unavailable",
        "attestation_report": None,
        "verification_output": "SEV-SNP is unavailable: no guest interface",
    }
    with Replay(body) as replay:
        code = snp_verify("url", replay.url, "--offline")
    assert code == 1
    assert "no guest interface" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["http://127.0.0.1:9/verify"], "could not reach"),
        (["http://127.0.0.1:9/verify", "--nonce", "xyz"], "not hexadecimal"),
        (["ftp://example/verify"], "not an http(s) URL"),
    ],
)
def test_unusable_input_exits_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert snp_verify("url", *argv, "--offline", "--timeout", "5") == 2
    assert message in capsys.readouterr().err


def test_malformed_answer_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with Replay({"attestation_status": "verified", "attestation_report": "***"}) as replay:
        assert snp_verify("url", replay.url, "--offline") == 2
    assert "invalid base64" in capsys.readouterr().err


def test_url_target() -> None:
    assert verify_url_target("https://app.example/") == "https://app.example/verify"
    assert verify_url_target("http://h:8790/verify?x=1") == "http://h:8790/verify"
