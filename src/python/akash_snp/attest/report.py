"""The SEV-SNP attestation report: bytes <-> an immutable typed value (no crypto, no I/O).

Layout: AMD SEV-SNP ABI spec, table ATTESTATION_REPORT (FACTS §1), versions 2, 3, 4 (same layout
as 3) and 5. Parsing is strict: wrong length, unknown version, SIGNATURE_ALGO other than 1 and
non-zero reserved bits are errors, so ``serialise(parse(b)) == b`` for every accepted ``b``.
TCB fields stay raw 8-byte values here because their layout depends on the product (see tcb.py).
Signature checks must hash the *original* bytes (``signed_region``), never a re-encoding.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from akash_snp.attest.constants import (
    REPORT_SIZE,
    SIGNATURE_ALGO_ECDSA_P384_SHA384,
    SIGNATURE_COMPONENT_SIZE,
    SIGNED_REGION_END,
    SUPPORTED_REPORT_VERSIONS,
)
from akash_snp.attest.errors import ReportFormatError

_LAYOUT = struct.Struct("<IIQ16s16sII8sQI4s64s48s32s48s48s32s32s8s24s64s8s4s4s8s168s72s72s368s")
assert _LAYOUT.size == REPORT_SIZE

# POLICY bits (ABI spec GUEST_POLICY; FACTS §1).
_POLICY_RESERVED_ONE = 1 << 17
_POLICY_KNOWN_MASK = (1 << 26) - 1
# SIGNER_INFO bits 0-4 are defined; the rest are reserved.
_SIGNER_KNOWN_MASK = 0x1F

SIGNING_KEY_VCEK = 0
SIGNING_KEY_VLEK = 1
SIGNING_KEY_NONE = 7
SIGNING_KEY_NAMES = {SIGNING_KEY_VCEK: "VCEK", SIGNING_KEY_VLEK: "VLEK", SIGNING_KEY_NONE: "none"}


def _bit(value: int, bit: int) -> bool:
    return bool((value >> bit) & 1)


@dataclass(frozen=True, slots=True)
class GuestPolicy:
    """POLICY (64 bits): what the guest owner allowed at launch."""

    value: int

    @property
    def abi_minor(self) -> int:
        return self.value & 0xFF

    @property
    def abi_major(self) -> int:
        return (self.value >> 8) & 0xFF

    @property
    def smt_allowed(self) -> bool:
        return _bit(self.value, 16)

    @property
    def migrate_ma(self) -> bool:
        return _bit(self.value, 18)

    @property
    def debug(self) -> bool:
        return _bit(self.value, 19)

    @property
    def single_socket(self) -> bool:
        return _bit(self.value, 20)

    @property
    def cxl_allowed(self) -> bool:
        return _bit(self.value, 21)

    @property
    def mem_aes_256_xts(self) -> bool:
        return _bit(self.value, 22)

    @property
    def rapl_disabled(self) -> bool:
        return _bit(self.value, 23)

    @property
    def ciphertext_hiding(self) -> bool:
        return _bit(self.value, 24)

    @property
    def page_swap_disabled(self) -> bool:
        return _bit(self.value, 25)

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": f"0x{self.value:x}",
            "abi_major": self.abi_major,
            "abi_minor": self.abi_minor,
            "smt_allowed": self.smt_allowed,
            "migrate_ma": self.migrate_ma,
            "debug": self.debug,
            "single_socket": self.single_socket,
            "cxl_allowed": self.cxl_allowed,
            "mem_aes_256_xts": self.mem_aes_256_xts,
            "rapl_disabled": self.rapl_disabled,
            "ciphertext_hiding": self.ciphertext_hiding,
            "page_swap_disabled": self.page_swap_disabled,
        }


@dataclass(frozen=True, slots=True)
class PlatformInfo:
    """PLATFORM_INFO (64 bits); unknown bits are kept, not rejected (Turin sets bit 6)."""

    value: int

    @property
    def smt_enabled(self) -> bool:
        return _bit(self.value, 0)

    @property
    def tsme_enabled(self) -> bool:
        return _bit(self.value, 1)

    @property
    def ecc_enabled(self) -> bool:
        return _bit(self.value, 2)

    @property
    def rapl_disabled(self) -> bool:
        return _bit(self.value, 3)

    @property
    def ciphertext_hiding_enabled(self) -> bool:
        return _bit(self.value, 4)

    @property
    def alias_check_complete(self) -> bool:
        return _bit(self.value, 5)

    @property
    def tio_enabled(self) -> bool:
        return _bit(self.value, 7)

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": f"0x{self.value:x}",
            "smt_enabled": self.smt_enabled,
            "tsme_enabled": self.tsme_enabled,
            "ecc_enabled": self.ecc_enabled,
            "rapl_disabled": self.rapl_disabled,
            "ciphertext_hiding_enabled": self.ciphertext_hiding_enabled,
            "alias_check_complete": self.alias_check_complete,
            "tio_enabled": self.tio_enabled,
        }


@dataclass(frozen=True, slots=True)
class SignerInfo:
    """The 32-bit signer info word: which key signed and whether CHIP_ID is masked."""

    value: int

    @property
    def author_key_en(self) -> bool:
        return _bit(self.value, 0)

    @property
    def mask_chip_key(self) -> bool:
        return _bit(self.value, 1)

    @property
    def signing_key(self) -> int:
        return (self.value >> 2) & 0x7

    @property
    def signing_key_name(self) -> str:
        return SIGNING_KEY_NAMES.get(self.signing_key, f"reserved({self.signing_key})")

    def as_dict(self) -> dict[str, Any]:
        return {
            "author_key_en": self.author_key_en,
            "mask_chip_key": self.mask_chip_key,
            "signing_key": self.signing_key_name,
        }


@dataclass(frozen=True, slots=True)
class BuildVersion:
    """Firmware build as ``major.minor.build`` (stored build, minor, major in the report)."""

    major: int
    minor: int
    build: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.build}"

    def key(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.build)


@dataclass(frozen=True, slots=True)
class Cpuid:
    """CPUID_FAM_ID, CPUID_MOD_ID, CPUID_STEP (report version 3 and later)."""

    family: int
    model: int
    stepping: int


@dataclass(frozen=True, slots=True)
class Signature:
    """ECDSA P-384 signature components, stored little-endian in 72 bytes each."""

    r: int
    s: int


@dataclass(frozen=True)
class Report:
    """A parsed attestation report. TCB fields are raw 8-byte values (layout per product)."""

    version: int
    guest_svn: int
    policy: GuestPolicy
    family_id: bytes
    image_id: bytes
    vmpl: int
    signature_algo: int
    current_tcb: bytes
    platform_info: PlatformInfo
    signer_info: SignerInfo
    report_data: bytes
    measurement: bytes
    host_data: bytes
    id_key_digest: bytes
    author_key_digest: bytes
    report_id: bytes
    report_id_ma: bytes
    reported_tcb: bytes
    cpuid: Cpuid | None
    chip_id: bytes
    committed_tcb: bytes
    current_build: BuildVersion
    committed_build: BuildVersion
    launch_tcb: bytes
    launch_mit_vector: int | None
    current_mit_vector: int | None
    signature: Signature

    @property
    def chip_id_masked(self) -> bool:
        """CHIP_ID is all zero when the host masks it (AWS, MASK_CHIP_ID policy)."""
        return self.chip_id.count(0) == len(self.chip_id)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready decoded fields (hex for byte strings)."""
        return {
            "version": self.version,
            "guest_svn": self.guest_svn,
            "policy": self.policy.as_dict(),
            "family_id": self.family_id.hex(),
            "image_id": self.image_id.hex(),
            "vmpl": self.vmpl,
            "signature_algo": self.signature_algo,
            "current_tcb": self.current_tcb.hex(),
            "platform_info": self.platform_info.as_dict(),
            "signer_info": self.signer_info.as_dict(),
            "report_data": self.report_data.hex(),
            "measurement": self.measurement.hex(),
            "host_data": self.host_data.hex(),
            "id_key_digest": self.id_key_digest.hex(),
            "author_key_digest": self.author_key_digest.hex(),
            "report_id": self.report_id.hex(),
            "report_id_ma": self.report_id_ma.hex(),
            "reported_tcb": self.reported_tcb.hex(),
            "cpuid": None
            if self.cpuid is None
            else {
                "family": f"0x{self.cpuid.family:02x}",
                "model": f"0x{self.cpuid.model:02x}",
                "stepping": f"0x{self.cpuid.stepping:02x}",
            },
            "chip_id": self.chip_id.hex(),
            "chip_id_masked": self.chip_id_masked,
            "committed_tcb": self.committed_tcb.hex(),
            "current_build": str(self.current_build),
            "committed_build": str(self.committed_build),
            "launch_tcb": self.launch_tcb.hex(),
            "launch_mit_vector": None
            if self.launch_mit_vector is None
            else f"0x{self.launch_mit_vector:016x}",
            "current_mit_vector": None
            if self.current_mit_vector is None
            else f"0x{self.current_mit_vector:016x}",
        }


def _reserved_regions(version: int) -> tuple[tuple[int, int, str], ...]:
    """(start, end, name) of every byte range that must be zero in a report of ``version``."""
    regions = [(0x04C, 0x050, "0x04C-0x04F")]
    if version >= 3:
        regions.append((0x18B, 0x1A0, "0x18B-0x19F"))
    else:
        regions.append((0x188, 0x1A0, "0x188-0x19F (CPUID fields are reserved in version 2)"))
    regions += [(0x1EB, 0x1EC, "0x1EB"), (0x1EF, 0x1F0, "0x1EF")]
    regions.append((0x208, 0x2A0, "0x208-0x29F") if version >= 5 else (0x1F8, 0x2A0, "0x1F8-0x29F"))
    regions += [
        (0x2A0 + 48, 0x2A0 + 72, "signature R bytes 48-71 (P-384 values fit in 48 bytes)"),
        (0x2E8 + 48, 0x2E8 + 72, "signature S bytes 48-71 (P-384 values fit in 48 bytes)"),
        (0x330, REPORT_SIZE, "signature bytes 0x330-0x49F"),
    ]
    return tuple(regions)


def _mask(regions: tuple[tuple[int, int, str], ...]) -> int:
    mask = bytearray(REPORT_SIZE)
    for begin, end, _ in regions:
        mask[begin:end] = b"\xff" * (end - begin)
    return int.from_bytes(mask, "little")


_RESERVED = {v: _reserved_regions(v) for v in SUPPORTED_REPORT_VERSIONS}
# One big-integer AND finds any non-zero reserved byte; the slow path then names the field.
_RESERVED_MASK = {v: _mask(regions) for v, regions in _RESERVED.items()}


def _check_reserved(raw: bytes, version: int) -> None:
    if not int.from_bytes(raw, "little") & _RESERVED_MASK[version]:
        return
    for begin, end, name in _RESERVED[version]:
        region = raw[begin:end]
        if region.count(0) != len(region):
            raise ReportFormatError(f"reserved field {name} is not zero: {region.hex()}")


def _new_report(**fields: Any) -> Report:
    """Build a Report without the generated frozen ``__init__`` (one ``object.__setattr__`` per
    field costs ~15 us, a fifth of a warm verification); every field is given, so the value is
    identical to ``Report(**fields)``."""
    report = object.__new__(Report)
    report.__dict__.update(fields)
    return report


def parse_report(data: bytes) -> Report:
    """Parse a report strictly; raises ``ReportFormatError`` naming the offending field."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ReportFormatError(f"report must be bytes, got {type(data).__name__}")
    raw = data if isinstance(data, bytes) else bytes(data)
    if len(raw) != REPORT_SIZE:
        raise ReportFormatError(f"report must be {REPORT_SIZE} bytes, got {len(raw)}")
    (
        version,
        guest_svn,
        policy,
        family_id,
        image_id,
        vmpl,
        signature_algo,
        current_tcb,
        platform_info,
        signer_info,
        _,
        report_data,
        measurement,
        host_data,
        id_key_digest,
        author_key_digest,
        report_id,
        report_id_ma,
        reported_tcb,
        cpuid_region,
        chip_id,
        committed_tcb,
        current_build,
        committed_build,
        launch_tcb,
        tail,
        sig_r,
        sig_s,
        _,
    ) = _LAYOUT.unpack(raw)
    if version not in SUPPORTED_REPORT_VERSIONS:
        raise ReportFormatError(
            f"report VERSION {version} is not supported (expected one of "
            f"{', '.join(map(str, SUPPORTED_REPORT_VERSIONS))})"
        )
    if signature_algo != SIGNATURE_ALGO_ECDSA_P384_SHA384:
        raise ReportFormatError(
            f"SIGNATURE_ALGO is {signature_algo}, expected 1 (ECDSA P-384 with SHA-384)"
        )
    if policy & ~_POLICY_KNOWN_MASK:
        raise ReportFormatError(f"POLICY 0x{policy:x} sets reserved bits 26-63")
    if not policy & _POLICY_RESERVED_ONE:
        raise ReportFormatError(f"POLICY 0x{policy:x}: reserved bit 17 must be 1")
    if signer_info & ~_SIGNER_KNOWN_MASK:
        raise ReportFormatError(f"signer info 0x{signer_info:x} sets reserved bits 5-31")
    _check_reserved(raw, version)
    v3 = version >= 3
    v5 = version >= 5
    return _new_report(
        version=version,
        guest_svn=guest_svn,
        policy=GuestPolicy(policy),
        family_id=family_id,
        image_id=image_id,
        vmpl=vmpl,
        signature_algo=signature_algo,
        current_tcb=current_tcb,
        platform_info=PlatformInfo(platform_info),
        signer_info=SignerInfo(signer_info),
        report_data=report_data,
        measurement=measurement,
        host_data=host_data,
        id_key_digest=id_key_digest,
        author_key_digest=author_key_digest,
        report_id=report_id,
        report_id_ma=report_id_ma,
        reported_tcb=reported_tcb,
        cpuid=Cpuid(cpuid_region[0], cpuid_region[1], cpuid_region[2]) if v3 else None,
        chip_id=chip_id,
        committed_tcb=committed_tcb,
        current_build=BuildVersion(current_build[2], current_build[1], current_build[0]),
        committed_build=BuildVersion(committed_build[2], committed_build[1], committed_build[0]),
        launch_tcb=launch_tcb,
        launch_mit_vector=int.from_bytes(tail[0:8], "little") if v5 else None,
        current_mit_vector=int.from_bytes(tail[8:16], "little") if v5 else None,
        signature=Signature(int.from_bytes(sig_r, "little"), int.from_bytes(sig_s, "little")),
    )


def _build(version: BuildVersion) -> bytes:
    return bytes([version.build, version.minor, version.major, 0])


def serialise_report(report: Report) -> bytes:
    """Encode a report back into its 1184 bytes (the inverse of ``parse_report``)."""
    if report.version >= 3:
        if report.cpuid is None:
            raise ReportFormatError(f"report version {report.version} needs CPUID fields")
        cpuid_region = bytes([report.cpuid.family, report.cpuid.model, report.cpuid.stepping])
    else:
        cpuid_region = b""
    if report.version >= 5:
        tail = (report.launch_mit_vector or 0).to_bytes(8, "little") + (
            report.current_mit_vector or 0
        ).to_bytes(8, "little")
    else:
        tail = b""
    try:
        return _LAYOUT.pack(
            report.version,
            report.guest_svn,
            report.policy.value,
            report.family_id,
            report.image_id,
            report.vmpl,
            report.signature_algo,
            report.current_tcb,
            report.platform_info.value,
            report.signer_info.value,
            b"",
            report.report_data,
            report.measurement,
            report.host_data,
            report.id_key_digest,
            report.author_key_digest,
            report.report_id,
            report.report_id_ma,
            report.reported_tcb,
            cpuid_region,
            report.chip_id,
            report.committed_tcb,
            _build(report.current_build),
            _build(report.committed_build),
            report.launch_tcb,
            tail,
            report.signature.r.to_bytes(SIGNATURE_COMPONENT_SIZE, "little"),
            report.signature.s.to_bytes(SIGNATURE_COMPONENT_SIZE, "little"),
            b"",
        )
    except (struct.error, OverflowError) as error:
        raise ReportFormatError(f"report field out of range: {error}") from error


def signed_region(data: bytes) -> bytes:
    """The bytes the firmware signs: 0x000..0x29F of the report exactly as received."""
    return bytes(data[:SIGNED_REGION_END])
