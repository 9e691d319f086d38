"""The real agent process on loopback, alone and behind a real sidecar in ``--provider agent``
mode (a relay: the agent verifies), driven over HTTP; ``snp-verify url`` checks the sidecar's
nonce-bound answer."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from akash_snp.attest.nonce import report_data_for_nonce
from akash_snp.cli.main import main as snp_verify
from akash_snp.testing.agent_process import emulated_agent_flags, free_port, sidecar_flags
from akash_snp.testing.sidecar_process import SidecarProcess
from akash_snp.testing.waiting import wait_until


def _settled(url: str, timeout: float = 60.0) -> dict[str, Any]:
    """``url``'s JSON once its first periodic attestation has finished."""

    def finished() -> dict[str, Any] | None:
        body: dict[str, Any] = requests.get(url, timeout=30).json()
        return None if body["attestation_status"] == "pending" else body

    return wait_until(finished, timeout, f"{url} to finish its first attestation")


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
@pytest.mark.parametrize("endpoint", ["/v1/report", "/v1/verify"])
def test_raw_report_data_and_bad_nonces_are_refused(
    agent: SidecarProcess, endpoint: str, query: str
) -> None:
    response = requests.get(f"{agent.url}{endpoint}?{query}", timeout=10)
    assert response.status_code == 400
    assert response.json()["error"]


def test_agent_verifies_a_fresh_report_bound_to_the_nonce(agent: SidecarProcess) -> None:
    nonce = bytes(range(24))
    response = requests.get(f"{agent.url}/v1/verify", params={"nonce": nonce.hex()}, timeout=30)
    assert response.status_code == 200
    body = response.json()
    assert body["attestation_status"] == "verified", body["verification_output"]
    assert body["nonce"] == nonce.hex()
    assert body["report_data_binding"].startswith("nonce: ")
    assert base64.b64decode(body["attestation_report"])[0x50:0x90] == report_data_for_nonce(nonce)
    for field in ("cert_chain", "vcek_certificate", "product", "signing_key", "checks", "report",
                  "what_this_proves", "what_this_does_not_prove"):  # fmt: skip
        assert body[field], field


def test_agent_attests_its_own_node(agent: SidecarProcess) -> None:
    status = _settled(f"{agent.url}/v1/status")
    assert status["attestation_status"] == "verified", status["verification_output"]
    assert requests.get(f"{agent.url}/healthz", timeout=10).json() == {"status": "ok"}
    assert requests.get(f"{agent.url}/readyz", timeout=10).status_code == 200
    text = requests.get(f"{agent.url}/metrics", timeout=10).text
    assert 'sev_attestation_attestations_total{kind="periodic",outcome="verified"} 1.0' in text
    assert "sev_agent_reports_served_total" in text


def test_sidecar_relays_the_agents_verified_attestations(
    agent: SidecarProcess, sidecar: SidecarProcess
) -> None:
    status = _settled(f"{agent.url}/v1/status")
    body = _settled(f"{sidecar.url}/verify")
    assert body == status  # the node's periodic attestation, relayed unchanged
    assert body["attestation_status"] == "verified", body["verification_output"]
    assert body["provider"] == "emulated"
    assert body["report_data_binding"].startswith("periodic: ")
    nonce = bytes(range(32))
    fresh = requests.get(f"{sidecar.url}/verify", params={"nonce": nonce.hex()}, timeout=30)
    assert fresh.status_code == 200
    answer = fresh.json()
    assert answer["attestation_status"] == "verified", answer["verification_output"]
    assert answer["nonce"] == nonce.hex()
    report = base64.b64decode(answer["attestation_report"])
    assert report[0x50:0x90] == report_data_for_nonce(nonce)
    ready = requests.get(f"{sidecar.url}/readyz", timeout=10).json()
    assert ready == {"status": "ready", "attestation_status": "verified"}
    text = requests.get(f"{sidecar.url}/metrics", timeout=10).text
    assert 'sev_attestation_attestations_total{kind="nonce",outcome="verified"}' in text
    agent_text = requests.get(f"{agent.url}/metrics", timeout=10).text
    assert 'sev_attestation_attestations_total{kind="nonce",outcome="verified"}' in agent_text


def test_the_relay_does_not_import_the_verifier() -> None:
    """Building the agent-mode sidecar (flags, backend, app) loads no cryptography, no verifier,
    no KDS client and no Flask: that is what keeps each tenant pod's sidecar small."""
    script = """
import sys
from akash_snp.sidecar.app import create_app
from akash_snp.sidecar.config import parse_config
from akash_snp.sidecar.main import _service
from akash_snp.attestation.metrics import AttestationMetrics
metrics = AttestationMetrics()
config = parse_config(["--provider=agent", "--agent-url=http://127.0.0.1:9"])
backend, loop, _ = _service(config, metrics)
create_app(backend, metrics)
assert loop is None
print(" ".join(sorted(sys.modules)))
"""
    loaded = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True, timeout=60
    ).stdout.split()
    banned = ("cryptography", "akash_snp.attest.verify", "akash_snp.attest.kds",
              "akash_snp.attestation.verification", "akash_snp.sidecar.local",
              "flask", "jinja2")  # fmt: skip
    assert "akash_snp.sidecar.relay" in loaded
    assert [name for name in loaded if name.startswith(banned)] == []


def test_the_sidecars_own_budget_refuses_before_asking_the_agent(agent: SidecarProcess) -> None:
    flags = [*sidecar_flags(agent.url), "--rate", "0.001", "--burst", "1"]
    with SidecarProcess(flags) as sidecar:
        first = requests.get(f"{sidecar.url}/verify?nonce=01", timeout=30)
        second = requests.get(f"{sidecar.url}/verify?nonce=02", timeout=30)
    assert first.status_code == 200
    assert second.status_code == 429
    assert int(second.headers["Retry-After"]) >= 1


def test_verifier_flags_are_refused_in_agent_mode() -> None:
    for flag in ("--kds-url=http://127.0.0.1:9/kds", "--trust-ark=ark.pem", "--policy=p.yaml"):
        done = subprocess.run(
            [sys.executable, "-m", "akash_snp.sidecar.main", *sidecar_flags("http://127.0.0.1:9"),
             flag], capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 2
        assert "not with --provider agent" in done.stderr
        assert "sev-attestation agent" in done.stderr


def test_snp_verify_url_accepts_the_nonce_bound_answer(
    sidecar: SidecarProcess, emulated_pki_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = snp_verify(
        ["url", sidecar.url, "--trust-ark", str(emulated_pki_dir / "ark.pem"), "--offline"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "[ok] policy.nonce: REPORT_DATA commits to nonce" in out


def test_node_budget_exhausted_is_429_at_the_agent_and_the_sidecar(emulated_pki_dir: Path) -> None:
    flags = emulated_agent_flags(emulated_pki_dir, "--rate", "0.01", "--burst", "3")
    with SidecarProcess(flags, subcommand=["agent"]) as agent, SidecarProcess(
        sidecar_flags(agent.url)
    ) as sidecar:
        codes = [
            requests.get(f"{agent.url}/v1/report?nonce=01", timeout=30).status_code
            for _ in range(3)
        ]
        refused = requests.get(f"{agent.url}/v1/report?nonce=01", timeout=30)
        via_sidecar = requests.get(f"{sidecar.url}/verify?nonce=02", timeout=30)
        text = requests.get(f"{agent.url}/metrics", timeout=10).text
    # 3 tokens for the node, shared with the agent's periodic attestation; the relay has none.
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
        verify = requests.get(f"{agent.url}/v1/verify?nonce=01", timeout=10)
        with SidecarProcess(sidecar_flags(agent.url)) as sidecar:
            body = _settled(f"{sidecar.url}/verify")
            fresh = requests.get(f"{sidecar.url}/verify?nonce=01", timeout=10)
    assert direct.status_code == 503
    assert "no SEV-SNP guest interface" in direct.json()["error"]
    assert verify.status_code == 503
    assert verify.json()["attestation_status"] == "unavailable"
    assert "no SEV-SNP guest interface" in verify.json()["error"]
    assert body["attestation_status"] == "unavailable"
    assert "no SEV-SNP guest interface" in body["verification_output"]
    assert fresh.status_code == 200
    answer = fresh.json()
    assert answer["attestation_status"] == "unavailable"
    assert f"node attestation agent at {agent.url}" in answer["verification_output"]
    assert "no SEV-SNP guest interface" in answer["verification_output"]
