"""The bundle of AMD intermediates: the packaged one, and the refresh command against a fake KDS
(real HTTP on loopback) serving AMD's real chains, read at test time from ../shared."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from akash_snp.attest import chain
from akash_snp.attest.bundle import KINDS, AmdBundle, packaged_bundle
from akash_snp.attest.certtable import CertTableEntry, build_cert_table
from akash_snp.attest.constants import AMD_ARK_SHA256, GUID_VLEK, Product
from akash_snp.attest.errors import ChainError
from akash_snp.attest.kds import chain_path
from akash_snp.attest.refresh_bundle import main as refresh
from akash_snp.attest.verify import verify_attestation
from akash_snp.emulation.pki import EmulatedAmd
from akash_snp.testing.fake_kds import running_fake_kds


def test_packaged_bundle_is_pinned_and_signed_by_the_pinned_arks() -> None:
    bundle = packaged_bundle()
    for (product, _kind), got in bundle.chains().items():
        assert got.ark.sha256.hex() == AMD_ARK_SHA256[product]
        assert chain.verify_link(got.intermediate, got.ark) is None
    if not len(bundle):  # this revision ships none; the manifest must say so and why
        about = json.loads(
            (Path(__file__).parent / "amd_bundle" / "manifest.json").read_text()
        )["about"]
        assert "EMPTY" in about
        assert "refresh_bundle.py" in about


def _real_kds_files(snp_real_dir: Path) -> dict[str, bytes]:
    return {
        chain_path(product, kind): (
            snp_real_dir / "amd" / f"{product.value.lower()}_{kind}_chain.pem"
        ).read_bytes()
        for product in Product
        for kind in KINDS
    }


@pytest.fixture()
def refreshed(
    snp_real_dir: Path, emulated_pkis: dict[Product, EmulatedAmd], tmp_path: Path
) -> Path:
    """A bundle directory filled by the refresh command from a fake KDS serving AMD's chains."""
    files = _real_kds_files(snp_real_dir)
    with running_fake_kds(emulated_pkis, static=files) as kds:
        assert refresh(["--out", str(tmp_path / "bundle"), "--kds-url", kds.url]) == 0
        assert sorted(kds.requests) == sorted(files)
    return tmp_path / "bundle"


def _aws_case(snp_real_dir: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in manifest["cases"] if c["id"] == "milan-v3-vlek-aws")


def test_aws_report_with_only_its_vlek_verifies_offline_with_the_bundle(
    refreshed: Path, snp_real_dir: Path, snp_real_manifest: dict[str, Any]
) -> None:
    case = _aws_case(snp_real_dir, snp_real_manifest)
    report = (snp_real_dir / case["report"]).read_bytes()
    table = build_cert_table(
        [CertTableEntry(GUID_VLEK, (snp_real_dir / case["endorsement_cert"]).read_bytes())]
    )
    at = datetime.fromisoformat(case["verify_at"])
    bundle = AmdBundle.load(refreshed)
    assert len(bundle) == 6
    verdict = verify_attestation(report, certificates=[table], at=at, bundle=bundle)
    assert verdict.genuine, verdict.summary()
    with pytest.raises(ChainError, match="no ASVK and ARK"):
        verify_attestation(report, certificates=[table], at=at, bundle=AmdBundle({}))


def test_a_bundle_that_differs_from_its_pins_is_refused(refreshed: Path, tmp_path: Path) -> None:
    repinned = shutil.copytree(refreshed, tmp_path / "repinned")
    manifest = json.loads((repinned / "manifest.json").read_text())
    manifest["chains"]["Milan/vlek"]["sha256"][0] = "00" * 32
    (repinned / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ChainError, match="differ from the manifest"):
        AmdBundle.load(repinned)
    swapped = shutil.copytree(refreshed, tmp_path / "swapped")
    (swapped / "Genoa-vcek-chain.pem").write_bytes((swapped / "Milan-vcek-chain.pem").read_bytes())
    with pytest.raises(ChainError, match="Genoa/vcek: expected ASK then ARK of Genoa"):
        AmdBundle.load(swapped)


def test_refresh_refuses_a_chain_that_is_not_amds(
    emulated_pkis: dict[Product, EmulatedAmd], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_fake_kds(emulated_pkis) as kds:  # serves the emulated PKI's chains
        assert refresh(["--out", str(tmp_path / "bundle"), "--kds-url", kds.url]) == 1
    assert "is not AMD's pinned ARK" in capsys.readouterr().err
    assert not (tmp_path / "bundle").exists()
