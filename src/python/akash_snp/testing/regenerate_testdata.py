"""Regenerate the emulated recordings: ``python -m akash_snp.testing.regenerate_testdata OUTDIR``.

OUTDIR (the repository's ``testdata/emulated``) receives, per product, ``pki/<Product>/`` (the
emulated ARK/ASK/ASVK, KDS-style chains and CRLs) and ``reports/<case>/`` (report.bin, the
extended-report certificate table certs.bin and the endorsement certificate), plus
``manifest.json`` describing every case. Output is byte-identical between runs: EC keys, PSS salts
and ECDSA nonces derive from a fixed seed. RSA-4096 keys cannot be derived, so existing
``pki/<Product>/*-key.pem`` files are reused and only generated when absent.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from akash_snp.attest.constants import Product
from akash_snp.emulation.pki import EPOCH, EmulatedAmd

VERIFY_AT = EPOCH + timedelta(days=151)  # 2025-06-01, inside every emulated validity period


@dataclass(frozen=True)
class Case:
    """One recording: which product, report version and signing key, and what is special."""

    id: str
    product: Product
    version: int
    signing_key: str
    vmpl: int = 0
    mask_chip_id: bool = False
    note: str = ""


CASES = (
    Case("milan-v2-vcek", Product.MILAN, 2, "VCEK", note="v2: product comes from the VCEK"),
    Case(
        "milan-v3-vlek-masked",
        Product.MILAN,
        3,
        "VLEK",
        vmpl=1,
        mask_chip_id=True,
        note="AWS-like: VLEK, CHIP_ID masked, VMPL 1",
    ),
    Case("milan-v5-vcek", Product.MILAN, 5, "VCEK", note="v5 with mitigation vectors"),
    Case("genoa-v2-vcek", Product.GENOA, 2, "VCEK"),
    Case("genoa-v3-vcek", Product.GENOA, 3, "VCEK"),
    Case("genoa-v5-vlek", Product.GENOA, 5, "VLEK"),
    Case("turin-v3-vcek", Product.TURIN, 3, "VCEK", note="Turin TCB layout, 8-byte CHIP_ID"),
    Case("turin-v5-vcek", Product.TURIN, 5, "VCEK"),
    Case("turin-v5-vlek", Product.TURIN, 5, "VLEK"),
)


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def regenerate(out: Path) -> list[dict[str, object]]:
    """Write every recording under ``out``; returns the manifest entries."""
    pkis = {p: EmulatedAmd.load_or_create(out / "pki" / p.value, p) for p in Product}
    for product, pki in pkis.items():
        folder = out / "pki" / product.value
        _write(folder / "vcek.crl", pki.crl_der())
        _write(folder / "vlek.crl", pki.crl_der())
        _write(folder / "vcek_revoked_ask.crl", pki.crl_der((pki.ask_serial(),)))
    entries: list[dict[str, object]] = []
    for case in CASES:
        pki = pkis[case.product]
        report_data = bytes.fromhex("c0ffee") + case.id.encode().ljust(61, b"\0")
        signed = pki.attest(
            report_data,
            version=case.version,
            vmpl=case.vmpl,
            signing_key=case.signing_key,
            mask_chip_id=case.mask_chip_id,
        )
        folder = out / "reports" / case.id
        leaf = "vcek.der" if case.signing_key == "VCEK" else "vlek.der"
        _write(folder / "report.bin", signed.report)
        _write(folder / "certs.bin", signed.cert_table)
        _write(folder / leaf, signed.endorsement_der)
        entries.append(
            {
                "id": case.id,
                "product": case.product.value,
                "report_version": case.version,
                "signing_key": case.signing_key,
                "report": f"reports/{case.id}/report.bin",
                "cert_table": f"reports/{case.id}/certs.bin",
                "endorsement_cert": f"reports/{case.id}/{leaf}",
                "chain": f"pki/{case.product.value}/{case.signing_key.lower()}_chain.pem",
                "root": f"pki/{case.product.value}/ark.pem",
                "verify_at": VERIFY_AT.isoformat(),
                "expected": "genuine with the emulated root as extra root, rejected by AMD roots",
                "chip_id_masked": case.mask_chip_id,
                "vmpl": case.vmpl,
                "report_data_hex": report_data.hex(),
                "note": case.note,
            }
        )
    manifest = {
        "about": "Recordings made by akash_snp's emulated SEV-SNP firmware and AMD PKI (NOT AMD). "
        "Regenerate: python -m akash_snp.testing.regenerate_testdata testdata/emulated",
        "crls": {
            "pki/<Product>/vcek.crl": "CRL signed by the emulated ARK, nothing revoked",
            "pki/<Product>/vcek_revoked_ask.crl": "CRL revoking the emulated ASK",
        },
        "cases": entries,
    }
    _write(out / "manifest.json", (json.dumps(manifest, indent=1) + "\n").encode())
    return entries


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m akash_snp.testing.regenerate_testdata OUTDIR", file=sys.stderr)
        return 2
    entries = regenerate(Path(args[0]))
    print(f"wrote {len(entries)} recordings to {args[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
