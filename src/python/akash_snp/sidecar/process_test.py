"""The real sidecar process on loopback, driven over HTTP."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.x509.oid import NameOID

from akash_snp.attest.certs import CertRole, load_certificates
from akash_snp.attest.nonce import report_data_for_nonce
from akash_snp.testing.sidecar_process import SidecarProcess
from akash_snp.testing.waiting import wait_until


def _settled(url: str, timeout: float = 30.0) -> dict[str, Any]:
    """/verify once the first periodic attestation has finished."""

    def finished() -> dict[str, Any] | None:
        body: dict[str, Any] = requests.get(f"{url}/verify", timeout=10).json()
        return None if body["attestation_status"] == "pending" else body

    return wait_until(finished, timeout, f"{url}/verify to finish its first attestation")


def test_verify_serves_a_verified_emulated_attestation(emulated_sidecar: SidecarProcess) -> None:
    body = _settled(emulated_sidecar.url)
    assert body["attestation_status"] == "verified", body["verification_output"]
    assert body["provider"] == "emulated"
    assert body["last_verification"].endswith("Z")
    assert "[ok] report_signature" in body["verification_output"]
    report = base64.b64decode(body["attestation_report"])
    assert len(report) == 1184
    chain = x509.load_pem_x509_certificates(base64.b64decode(body["cert_chain"]))
    names = [c.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value for c in chain]
    assert names == ["SEV-Genoa", "ARK-Genoa"]
    (vcek,) = load_certificates(base64.b64decode(body["vcek_certificate"]))
    assert vcek.role is CertRole.VCEK
    assert body["signing_key"] == "VCEK"
    assert body["report"]["vmpl"] == 0
    assert body["what_this_proves"]
    assert body["what_this_does_not_prove"]


def test_fresh_nonce(emulated_sidecar: SidecarProcess) -> None:
    nonce = bytes(range(32))
    response = requests.get(f"{emulated_sidecar.url}/verify?nonce={nonce.hex()}", timeout=30)
    assert response.status_code == 200
    body = response.json()
    assert body["attestation_status"] == "verified"
    report = base64.b64decode(body["attestation_report"])
    assert report[0x50:0x90] == report_data_for_nonce(nonce)
    assert body["nonce"] == nonce.hex()


@pytest.mark.parametrize(
    ("nonce", "message"),
    [("not-hex", "not hexadecimal"), ("", "empty"), ("ab" * 65, "65 bytes")],
)
def test_bad_nonces_are_400(emulated_sidecar: SidecarProcess, nonce: str, message: str) -> None:
    response = requests.get(f"{emulated_sidecar.url}/verify", params={"nonce": nonce}, timeout=10)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_health_and_metrics(emulated_sidecar: SidecarProcess) -> None:
    assert requests.get(f"{emulated_sidecar.url}/healthz", timeout=10).json() == {"status": "ok"}
    assert requests.get(f"{emulated_sidecar.url}/readyz", timeout=10).status_code == 200
    _settled(emulated_sidecar.url)
    text = requests.get(f"{emulated_sidecar.url}/metrics", timeout=10).text
    assert 'sev_attestation_attestations_total{kind="periodic",outcome="verified"} 1.0' in text
    assert "sev_attestation_last_success_timestamp_seconds " in text
    assert 'sev_attestation_http_request_duration_seconds_bucket{endpoint="/verify"' in text


def test_logs_are_json(emulated_sidecar: SidecarProcess) -> None:
    entries = [json.loads(line) for line in emulated_sidecar.logs]
    assert any(e["message"] == "attestation finished" for e in entries)


def test_rate_limiting(emulated_pki_dir: Path) -> None:
    flags = [
        "--provider",
        "emulated",
        "--emulated-pki-dir",
        str(emulated_pki_dir),
        "--rate",
        "0.01",
        "--burst",
        "3",
    ]
    with SidecarProcess(flags) as sidecar:
        codes = [
            requests.get(f"{sidecar.url}/verify?nonce=01", timeout=30).status_code for _ in range(4)
        ]
        refused = requests.get(f"{sidecar.url}/verify?nonce=01", timeout=30)
        text = requests.get(f"{sidecar.url}/metrics", timeout=10).text
    # 3 tokens shared with the periodic attestation: at most 3 fresh reports, then 429.
    assert codes.count(200) in (2, 3)
    assert codes[-1] == 429
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "sev_attestation_rate_limited_requests_total" in text
    assert sidecar.returncode == 0, "\n".join(sidecar.logs)


def test_unavailable_mode(tmp_path: Path) -> None:
    flags = [
        "--provider",
        "auto",
        "--configfs-root",
        str(tmp_path / "no-tsm"),
        "--device",
        str(tmp_path / "no-sev-guest"),
    ]
    with SidecarProcess(flags) as sidecar:
        ready = requests.get(f"{sidecar.url}/readyz", timeout=10)
        body = _settled(sidecar.url)
        fresh = requests.get(f"{sidecar.url}/verify?nonce=00", timeout=10).json()
    assert ready.status_code == 200
    assert body["attestation_status"] == "unavailable"
    assert "no SEV-SNP guest interface" in body["verification_output"]
    assert fresh["attestation_status"] == "unavailable"
    assert sidecar.returncode == 0


def test_bad_policy_file_fails_attestations_but_keeps_the_pod_up(
    emulated_pki_dir: Path, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("allow_debug: [not, a, bool]\n")
    flags = ["--provider", "emulated", "--emulated-pki-dir", str(emulated_pki_dir),
             "--policy", str(policy)]  # fmt: skip
    with SidecarProcess(flags) as sidecar:
        ready = requests.get(f"{sidecar.url}/readyz", timeout=10)
        body = _settled(sidecar.url)
    assert ready.status_code == 200
    assert body["attestation_status"] == "failed"
    assert "configuration error: policy file" in body["verification_output"]
    assert sidecar.returncode == 0


def test_new_emulated_pki_can_be_trusted_in_the_same_run(tmp_path: Path) -> None:
    """`--emulated-pki-dir DIR --trust-ark DIR/ark.pem`, DIR empty: the PKI is created first."""
    pki = tmp_path / "pki"
    flags = ["--provider", "emulated", "--emulated-pki-dir", str(pki),
             "--trust-ark", str(pki / "ark.pem")]  # fmt: skip
    with SidecarProcess(flags) as sidecar:
        body = _settled(sidecar.url, timeout=60)
    assert (pki / "ark.pem").is_file()
    assert body["attestation_status"] == "verified", body["verification_output"]
