"""The WSGI app through Werkzeug's test client, with a stand-in firmware and verifier (the real
process with real verification is exercised in process_test.py)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from werkzeug.test import Client

from akash_snp.attest.nonce import report_data_for_nonce
from akash_snp.attestation.attestor import Attestor
from akash_snp.attestation.loop import AttestationLoop
from akash_snp.attestation.metrics import AttestationMetrics
from akash_snp.attestation.outcome import Outcome
from akash_snp.attestation.state import LastResult
from akash_snp.guest.guard import GuardedProvider, TokenBucket
from akash_snp.guest.provider import GuestError, GuestReport
from akash_snp.guest.select import UnavailableProvider
from akash_snp.guest.source import LocalSource
from akash_snp.sidecar.app import answers_inline, create_app
from akash_snp.sidecar.local import LocalBackend
from akash_snp.testing.fake_sev_guest import fake_firmware

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


class FakeProvider:
    name = "fake"

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    def get_report(self, report_data: bytes) -> GuestReport:
        if self.fail:
            raise GuestError("firmware said no")
        return GuestReport(fake_firmware(report_data, 0), b"", self.name)


class FakeVerifier:
    """Accepts reports whose VERSION is 3; shows a made-up chain."""

    def verify(
        self, report: bytes, cert_table: bytes, at: datetime, nonce: bytes | None = None
    ) -> Outcome:
        ok = report[0] == 3
        return Outcome(
            genuine=ok,
            output="verdict: genuine" if ok else "verdict: rejected",
            checks=[{"name": "report_signature", "ok": ok, "detail": "stand-in"}],
            product="Genoa",
            signing_key="VCEK",
            report_fields={"report_data": report[0x50:0x90].hex()},
            chain_pem=b"-----BEGIN CERTIFICATE-----\n",
            endorsement_der=b"\x30\x82",
        )


def _client(
    provider: object, burst: int = 5
) -> tuple[Client, AttestationLoop, AttestationMetrics]:
    metrics = AttestationMetrics()
    guarded = GuardedProvider(provider, TokenBucket(0.001, burst))  # type: ignore[arg-type]
    attestor = Attestor(LocalSource(guarded), FakeVerifier(), metrics, lambda: NOW)
    last = LastResult()
    loop = AttestationLoop(attestor, last, interval=300)
    return Client(create_app(LocalBackend(attestor, last), metrics)), loop, metrics


def test_pending_before_the_first_attestation() -> None:
    client, _, _ = _client(FakeProvider())
    body = client.get("/verify").get_json()
    assert body["attestation_status"] == "pending"
    assert body["last_verification"] is None
    assert client.get("/readyz").status_code == 200


def test_periodic_result_fields() -> None:
    client, loop, _ = _client(FakeProvider())
    loop.run_once()
    body = client.get("/verify").get_json()
    assert body["attestation_status"] == "verified"
    assert body["last_verification"] == "2026-03-04T05:06:07Z"
    assert body["verification_output"] == "verdict: genuine"
    assert len(base64.b64decode(body["attestation_report"])) == 1184
    assert base64.b64decode(body["cert_chain"]).startswith(b"-----BEGIN CERTIFICATE")
    assert body["vcek_certificate"] == base64.b64encode(b"\x30\x82").decode()
    assert "vlek_certificate" not in body
    assert body["report_data_binding"].startswith("periodic: SHA-512")
    assert any("MEASUREMENT" in line for line in body["what_this_proves"])
    assert any("root in the guest" in line for line in body["what_this_does_not_prove"])


def test_nonce_report_commits_to_the_nonce() -> None:
    client, _, _ = _client(FakeProvider())
    response = client.get("/verify?nonce=0a0b0c")
    assert response.status_code == 200
    body = response.get_json()
    report = base64.b64decode(body["attestation_report"])
    assert report[0x50:0x90] == report_data_for_nonce(bytes.fromhex("0a0b0c"))
    assert body["nonce"] == "0a0b0c"
    assert body["attestation_status"] == "verified"


@pytest.mark.parametrize("query", ["nonce=", "nonce=xyz", "nonce=" + "00" * 65, "nonce=1&nonce=2"])
def test_bad_nonce_is_a_json_400(query: str) -> None:
    client, _, _ = _client(FakeProvider())
    response = client.get(f"/verify?{query}")
    assert response.status_code == 400
    assert "nonce" in response.get_json()["error"]


def test_rate_limited_nonce_requests_get_429() -> None:
    client, _, metrics = _client(FakeProvider(), burst=2)
    codes = [client.get("/verify?nonce=01").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    refused = client.get("/verify?nonce=01")
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.get_json()["retry_after_seconds"] > 0
    text = client.get("/metrics").get_data(as_text=True)
    assert "sev_attestation_rate_limited_requests_total 2.0" in text


def test_firmware_failure_is_a_failed_status_not_a_crash() -> None:
    client, loop, _ = _client(FakeProvider(fail=True))
    loop.run_once()
    body = client.get("/verify").get_json()
    assert body["attestation_status"] == "failed"
    assert "firmware said no" in body["verification_output"]


def test_unavailable_provider(tmp_path: Path) -> None:
    client, loop, _ = _client(UnavailableProvider("no SEV-SNP guest interface: none"))
    loop.run_once()
    body = client.get("/verify").get_json()
    assert body["attestation_status"] == "unavailable"
    assert "no SEV-SNP guest interface" in body["verification_output"]
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["attestation_status"] == "unavailable"


def test_metrics_count_outcomes_and_latency() -> None:
    client, loop, _ = _client(FakeProvider())
    loop.run_once()
    client.get("/verify")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'sev_attestation_attestations_total{kind="periodic",outcome="verified"} 1.0' in text
    samples = {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert samples["sev_attestation_last_success_timestamp_seconds"] == NOW.timestamp()
    assert 'sev_attestation_http_request_duration_seconds_count{endpoint="/verify"} 1.0' in text


def test_unknown_path_is_json_404() -> None:
    client, _, _ = _client(FakeProvider())
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.get_json()["error"] == "no such endpoint: /nope"


@pytest.mark.parametrize("query", ["nonce=ab%20cd", "nonce=ab+cd", "nonce=%20abcd"])
def test_nonce_must_be_strict_hex(query: str) -> None:
    client, _, _ = _client(FakeProvider())
    response = client.get(f"/verify?{query}")
    assert response.status_code == 400
    assert "not hexadecimal" in response.get_json()["error"]


@pytest.mark.parametrize(
    ("path", "name"),
    [("/verify?NONCE=ab", "NONCE"), ("/verify?nonce[]=ab", "nonce[]"), ("/healthz?x=1", "x")],
)
def test_unknown_query_parameters_are_a_json_400(path: str, name: str) -> None:
    client, _, _ = _client(FakeProvider())
    response = client.get(path)
    assert response.status_code == 400
    assert repr(name) in response.get_json()["error"]


def test_404_does_not_echo_a_long_path() -> None:
    client, _, _ = _client(FakeProvider())
    response = client.get("/" + "a" * 100_000)
    assert response.status_code == 404
    assert len(response.get_data()) < 300
    assert "(100001 characters)" in response.get_json()["error"]


class _Stub:
    """A backend whose periodic answer is, or is not yet, at hand."""

    def __init__(self, at_hand: bool) -> None:
        self.at_hand = at_hand

    def periodic_at_hand(self) -> bool:
        return self.at_hand


@pytest.mark.parametrize(
    ("path", "query", "at_hand", "inline"),
    [
        ("/healthz", b"", False, True),
        ("/readyz", b"", False, True),
        ("/metrics", b"", False, True),
        ("/verify", b"", True, True),  # the cached answer: on the event loop
        ("/verify", b"", False, False),  # the first one waits for a report or the agent
        ("/verify", b"nonce=01", True, False),  # a fresh report always waits
        ("/other", b"", True, False),
    ],
)
def test_what_is_answered_on_the_event_loop(
    path: str, query: bytes, at_hand: bool, inline: bool
) -> None:
    decide = answers_inline(_Stub(at_hand))  # type: ignore[arg-type]
    assert decide({"type": "http", "path": path, "query_string": query}) is inline
