"""Emulated SEV-SNP firmware: builds and signs attestation reports like the real PSP does.

Builds a ``Report`` value for any version (2-5), product and signing key, serialises it with the
library's own encoder and signs bytes 0x000-0x29F with ECDSA P-384 (deterministic nonces, so test
data regenerates byte-identically), storing R and S little-endian (SEV-SNP ABI spec, ECDSA P-384
with SHA-384 signature format).
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from akash_snp.attest.constants import SIGNED_REGION_END, TCB_LAYOUT, Product
from akash_snp.attest.report import (
    BuildVersion,
    Cpuid,
    GuestPolicy,
    PlatformInfo,
    Report,
    Signature,
    SignerInfo,
    serialise_report,
)
from akash_snp.attest.tcb import TcbVersion, encode_tcb

# A CPUID signature per product (family, model, stepping) inside product_from_cpuid's ranges.
CPUID_OF: dict[Product, Cpuid] = {
    Product.MILAN: Cpuid(0x19, 0x01, 0x01),
    Product.GENOA: Cpuid(0x19, 0x11, 0x01),
    Product.TURIN: Cpuid(0x1A, 0x02, 0x00),
}
DEFAULT_TCB: dict[Product, TcbVersion] = {
    Product.MILAN: TcbVersion(bootloader=4, tee=0, snp=24, microcode=219),
    Product.GENOA: TcbVersion(bootloader=10, tee=0, snp=23, microcode=84),
    Product.TURIN: TcbVersion(bootloader=1, tee=0, snp=3, microcode=81, fmc=1),
}
DEFAULT_POLICY = 0x30000  # SMT allowed, reserved bit 17, no debug, no migration agent
SIGNING_KEY_CODES = {"VCEK": 0, "VLEK": 1}
DEFAULT_BUILD = BuildVersion(1, 55, 29)


def unsigned_report(
    product: Product,
    *,
    version: int = 3,
    report_data: bytes = bytes(64),
    vmpl: int = 0,
    signing_key: str = "VCEK",
    chip_id: bytes = bytes(64),
    tcb: TcbVersion | None = None,
    current_tcb: TcbVersion | None = None,
    measurement: bytes = bytes(48),
    host_data: bytes = bytes(32),
    policy: int = DEFAULT_POLICY,
    guest_svn: int = 0,
    build: BuildVersion = DEFAULT_BUILD,
    mask_chip_id: bool = False,
) -> Report:
    """A report value with zero signature; TCBs default to the product's DEFAULT_TCB."""
    layout = TCB_LAYOUT[product]
    reported = encode_tcb(tcb or DEFAULT_TCB[product], layout)
    current = encode_tcb(current_tcb, layout) if current_tcb else reported
    signer = SIGNING_KEY_CODES[signing_key] << 2 | (0b10 if mask_chip_id else 0)
    return Report(
        version=version,
        guest_svn=guest_svn,
        policy=GuestPolicy(policy),
        family_id=bytes(16),
        image_id=bytes(16),
        vmpl=vmpl,
        signature_algo=1,
        current_tcb=current,
        platform_info=PlatformInfo(0x25),
        signer_info=SignerInfo(signer),
        report_data=report_data,
        measurement=measurement,
        host_data=host_data,
        id_key_digest=bytes(48),
        author_key_digest=bytes(48),
        report_id=bytes(range(32)),
        report_id_ma=b"\xff" * 32,
        reported_tcb=reported,
        cpuid=CPUID_OF[product] if version >= 3 else None,
        chip_id=bytes(64) if mask_chip_id else chip_id,
        committed_tcb=reported,
        current_build=build,
        committed_build=build,
        launch_tcb=reported,
        launch_mit_vector=0 if version >= 5 else None,
        current_mit_vector=0 if version >= 5 else None,
        signature=Signature(0, 0),
    )


def sign(report: Report, key: ec.EllipticCurvePrivateKey) -> bytes:
    """Serialise and sign: the signature covers the encoded bytes 0x000-0x29F."""
    unsigned = serialise_report(report._replace(signature=Signature(0, 0)))
    der = key.sign(
        unsigned[:SIGNED_REGION_END], ec.ECDSA(hashes.SHA384(), deterministic_signing=True)
    )
    r, s = decode_dss_signature(der)
    return serialise_report(report._replace(signature=Signature(r, s)))
