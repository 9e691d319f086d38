"""The real agent process on loopback, alone and behind a real sidecar in ``--provider agent``
mode, driven over HTTP; ``snp-verify url`` checks the sidecar's nonce-bound answer."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from akash_snp.agent.harness import emulated_agent_flags, free_port, sidecar_flags
from akash_snp.cli.main import main as snp_verify
from akash_snp.guest.nonce import report_data_for_nonce
from akash_snp.sidecar.harness import SidecarProcess


def _settled(url: str, timeout: float = 60.0) -> dict[str, Any]:
    """``url``'s JSON once its first periodic attestation has finished."""
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = requests.get(url, timeout=30).json()
        if body["attestation_status"] != "pending" or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


def test_report_data_is_the_documented_hash_of_the_nonce(agent: SidecarProcess) -> None:
    nonce = bytes(range(40))
    response = requests.get(f"{agent.url}/v1/report", params={"nonce": nonce.hex()}, timeout=30)
    assert response.status_code == 200
    body = response.json()
    report = base64.b64decode(body["report"])
    assert len(report) == 1184
    assert report[0x50:0x90] == report_data_for_nonce(nonce)
    assert body["provider"] == "emulated"
    assert base64.b64decode(body["cert_table"])


@pytest.mark.parametrize(
    "query",
    [
        "",
        "report_data=" + "00" * 64,
        "nonce=01&report_data=" + "00" * 64,
        "nonce=01&nonce=02",
        "nonce=not-hex",
        "nonce=" + "ab" * 65,
    ],
)
def test_raw_report_data_and_bad_nonces_are_refused(agent: SidecarProcess, query: str) -> None:
    response = requests.get(f"{agent.url}/v1/report?{query}", timeout=10)
    assert response.status_code == 400
    assert response.json()["error"]


def test_agent_attests_its_own_node(agent: SidecarProcess) -> None:
    status = _settled(f"{agent.url}/v1/status")
    assert status["attestation_status"] == "verified", status["verification_output"]
    assert requests.get(f"{agent.url}/healthz", timeout=10).json() == {"status": "ok"}
    assert requests.get(f"{agent.url}/readyz", timeout=10).status_code == 200
    text = requests.get(f"{agent.url}/metrics", timeout=10).text
    assert 'sev_attestation_attestations_total{kind="periodic",outcome="verified"} 1.0' in text
    assert "sev_agent_reports_served_total" in text


def test_sidecar_through_the_agent_verifies(sidecar: SidecarProcess) -> None:
    body = _settled(f"{sidecar.url}/verify")
    assert body["attestation_status"] == "verified", body["verification_output"]
    assert body["provider"] == "agent/emulated"
    assert body["report_data_binding"].startswith("periodic: random nonce ")
    nonce = bytes(range(32))
    fresh = requests.get(f"{sidecar.url}/verify", params={"nonce": nonce.hex()}, timeout=30)
    assert fresh.status_code == 200
    answer = fresh.json()
    assert answer["attestation_status"] == "verified", answer["verification_output"]
    assert answer["nonce"] == nonce.hex()
    report = base64.b64decode(answer["attestation_report"])
    assert report[0x50:0x90] == report_data_for_nonce(nonce)


def test_snp_verify_url_accepts_the_nonce_bound_answer(
    sidecar: SidecarProcess, emulated_pki_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = snp_verify(
        ["url", sidecar.url, "--trust-ark", str(emulated_pki_dir / "ark.pem"), "--offline"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "[ok] nonce_binding: REPORT_DATA commits to nonce" in out


def test_node_budget_exhausted_is_429_at_the_agent_and_the_sidecar(emulated_pki_dir: Path) -> None:
    flags = emulated_agent_flags(emulated_pki_dir, "--rate", "0.01", "--burst", "3")
    with SidecarProcess(flags, subcommand=["agent"]) as agent, SidecarProcess(
        sidecar_flags(agent.url, emulated_pki_dir)
    ) as sidecar:
        codes = [
            requests.get(f"{agent.url}/v1/report?nonce=01", timeout=30).status_code
            for _ in range(3)
        ]
        refused = requests.get(f"{agent.url}/v1/report?nonce=01", timeout=30)
        via_sidecar = requests.get(f"{sidecar.url}/verify?nonce=02", timeout=30)
        text = requests.get(f"{agent.url}/metrics", timeout=10).text
    # 3 tokens for the node, shared with the agent's and the sidecar's periodic attestations.
    assert codes[-1] == 429
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["retry_after_seconds"] > 0
    assert via_sidecar.status_code == 429
    assert int(via_sidecar.headers["Retry-After"]) >= 1
    assert "sev_agent_rate_limited_requests_total" in text
    assert agent.returncode == 0, "\n".join(agent.logs)


def test_no_agent_listening_means_unavailable_with_the_reason() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with SidecarProcess(sidecar_flags(url)) as sidecar:
        body = _settled(f"{sidecar.url}/verify")
        fresh = requests.get(f"{sidecar.url}/verify?nonce=00", timeout=30).json()
        ready = requests.get(f"{sidecar.url}/readyz", timeout=10)
    assert body["attestation_status"] == "unavailable"
    assert f"no node attestation agent at {url}: connection refused" in body["verification_output"]
    assert fresh["attestation_status"] == "unavailable"
    assert ready.status_code == 200


def test_agent_without_a_guest_interface_answers_503(tmp_path: Path) -> None:
    flags = ["--provider", "auto", "--configfs-root", str(tmp_path / "no-tsm"),
             "--device", str(tmp_path / "no-sev-guest")]  # fmt: skip
    with SidecarProcess(flags, subcommand=["agent"]) as agent:
        direct = requests.get(f"{agent.url}/v1/report?nonce=01", timeout=10)
        with SidecarProcess(sidecar_flags(agent.url)) as sidecar:
            body = _settled(f"{sidecar.url}/verify")
    assert direct.status_code == 503
    assert "no SEV-SNP guest interface" in direct.json()["error"]
    assert body["attestation_status"] == "unavailable"
    assert f"node attestation agent at {agent.url}" in body["verification_output"]
    assert "no SEV-SNP guest interface" in body["verification_output"]
