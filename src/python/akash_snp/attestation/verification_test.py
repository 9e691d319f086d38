"""The sidecar's adapter to the library, on the project's emulated recordings: the certificate
table first, then KDS (a fake KDS server on loopback) for whatever the table lacks."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from akash_snp.attest.kds import KdsClient, KdsSettings
from akash_snp.attestation.verification import LibraryVerifier
from akash_snp.testing.fake_kds import FakeKds


def _case(emulated_dir: Path, manifest: dict[str, Any], case_id: str) -> dict[str, Any]:
    case: dict[str, Any] = next(c for c in manifest["cases"] if c["id"] == case_id)
    return {
        **case,
        "report_bytes": (emulated_dir / case["report"]).read_bytes(),
        "table": (emulated_dir / case["cert_table"]).read_bytes(),
        "endorsement": (emulated_dir / case["endorsement_cert"]).read_bytes(),
        "root_cert": x509.load_pem_x509_certificate((emulated_dir / case["root"]).read_bytes()),
        "chain_pem": (emulated_dir / case["chain"]).read_bytes(),
        "at": datetime.fromisoformat(case["verify_at"]),
    }


@pytest.fixture(scope="module")
def manifest(emulated_dir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((emulated_dir / "manifest.json").read_text())
    return loaded


def test_vlek_from_the_cert_table(emulated_dir: Path, manifest: dict[str, Any]) -> None:
    case = _case(emulated_dir, manifest, "milan-v3-vlek-masked")
    offline = KdsClient(KdsSettings(offline=True))
    verifier = LibraryVerifier(offline, extra_roots=[case["root_cert"]])
    outcome = verifier.verify(case["report_bytes"], case["table"], case["at"])
    assert outcome.genuine, outcome.output
    assert outcome.signing_key == "VLEK"
    assert outcome.endorsement_der == case["endorsement"]
    shown = x509.load_pem_x509_certificates(outcome.chain_pem)
    expected = x509.load_pem_x509_certificates(case["chain_pem"])
    assert shown == expected  # ASVK, then ARK
    assert outcome.report_fields is not None
    assert outcome.report_fields["vmpl"] == 1


def test_chain_missing_from_the_table_comes_from_kds(
    emulated_dir: Path, manifest: dict[str, Any], fake_kds: FakeKds
) -> None:
    case = _case(emulated_dir, manifest, "genoa-v3-vcek")
    kds = KdsClient(KdsSettings(base_url=fake_kds.url))
    verifier = LibraryVerifier(kds, extra_roots=[case["root_cert"]])
    outcome = verifier.verify(case["report_bytes"], b"", case["at"])
    assert outcome.genuine, outcome.output
    assert outcome.signing_key == "VCEK"
    assert outcome.endorsement_der == case["endorsement"]
    assert x509.load_pem_x509_certificates(outcome.chain_pem) == (
        x509.load_pem_x509_certificates(case["chain_pem"])
    )
    fetched = len(fake_kds.requests)
    assert fetched >= 2  # the VCEK and the chain
    verifier.verify(case["report_bytes"], b"", case["at"])
    assert len(fake_kds.requests) == fetched  # answered from the client's cache


def test_untrusted_root_is_not_genuine(emulated_dir: Path, manifest: dict[str, Any]) -> None:
    case = _case(emulated_dir, manifest, "milan-v3-vlek-masked")
    outcome = LibraryVerifier(KdsClient(KdsSettings(offline=True))).verify(
        case["report_bytes"], case["table"], case["at"]
    )
    assert not outcome.genuine
    assert "[FAIL] ark_trusted" in outcome.output
