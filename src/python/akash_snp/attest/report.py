"""The SEV-SNP attestation report: bytes <-> an immutable typed value (no crypto, no I/O).

Layout: SEV-SNP ABI spec, Table 23 ATTESTATION_REPORT Structure (revision named in constants.py),
versions 2, 3, 4 (same layout as 3) and 5, kept in one field table (``REPORT_LAYOUT``) from which
parsing, serialising and the reserved-must-be-zero checks are derived. Parsing is strict: wrong
length, unknown version, SIGNATURE_ALGO other than 1 and non-zero reserved bits are errors, so
``serialise(parse(b)) == b`` for every accepted ``b``. TCB fields stay raw 8-byte values here
because their layout depends on the product (see tcb.py). Signature checks must hash the *original*
bytes (``signed_region``), never a re-encoding.
"""

# Annotations are evaluated (no ``from __future__ import annotations``): ``typing.NamedTuple``
# compiles every string annotation into a ForwardRef, about 0.5 ms of every ``snp-verify`` start-up.

import functools
import struct
from collections.abc import Callable
from operator import itemgetter
from typing import Any, NamedTuple

from akash_snp.attest.constants import (
    REPORT_SIZE,
    SIGNATURE_ALGO_ECDSA_P384_SHA384,
    SIGNATURE_COMPONENT_SIZE,
    SIGNED_REGION_END,
    SUPPORTED_REPORT_VERSIONS,
)
from akash_snp.attest.errors import ReportFormatError

# POLICY bits (SEV-SNP ABI spec, GUEST_POLICY structure).
_POLICY_RESERVED_ONE = 1 << 17
_POLICY_KNOWN_MASK = (1 << 26) - 1
# Signer info (0x48) bits 0-4 are defined (Table 23); the rest are reserved.
_SIGNER_KNOWN_MASK = 0x1F

SIGNING_KEY_VCEK = 0
SIGNING_KEY_VLEK = 1
SIGNING_KEY_NONE = 7
SIGNING_KEY_NAMES = {SIGNING_KEY_VCEK: "VCEK", SIGNING_KEY_VLEK: "VLEK", SIGNING_KEY_NONE: "none"}


def _bit(value: int, bit: int) -> bool:
    return bool((value >> bit) & 1)


# The values below are NamedTuples rather than frozen dataclasses: each dataclass is compiled
# when its module is imported (~1 ms apiece, plus ~8 ms to import ``dataclasses`` itself), a
# cost every ``snp-verify`` start-up paid.


class GuestPolicy(NamedTuple):
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


class PlatformInfo(NamedTuple):
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


class SignerInfo(NamedTuple):
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


class BuildVersion(NamedTuple):
    """Firmware build as ``major.minor.build`` (stored build, minor, major in the report)."""

    major: int
    minor: int
    build: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.build}"

    def key(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.build)


class Cpuid(NamedTuple):
    """CPUID_FAM_ID, CPUID_MOD_ID, CPUID_STEP (report version 3 and later)."""

    family: int
    model: int
    stepping: int


class Signature(NamedTuple):
    """ECDSA P-384 signature components, stored little-endian in 72 bytes each."""

    r: int
    s: int


class Report(NamedTuple):
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


# --- The layout: one table; parsing, serialising and the zero checks are all derived from it ---

Decode = Callable[..., Any]
Encode = Callable[[Any], tuple[Any, ...]]


class Field(NamedTuple):
    """One row of the report layout; ``offset`` is relative to the enclosing structure.

    A row without ``fmt`` and ``parts`` is reserved: its bytes must be zero. ``fmt`` is the
    ``struct`` format of the row's value(s), read little-endian (``I``/``Q``/``B`` integers,
    ``Ns`` bytes); ``decode`` turns the unpacked value(s) into the ``Report`` attribute ``attr``
    and ``encode`` does the reverse (both absent: the one value is the attribute).
    """

    name: str
    offset: int
    size: int
    fmt: str = ""
    attr: str = ""
    decode: Decode | None = None
    encode: Encode | None = None
    # First report version that defines the row; before it the bytes are reserved and the
    # attribute is None. ``label`` is how errors name such a row.
    since: int = 2
    label: str = ""
    # A nested structure (the signature), whose non-reserved rows give ``decode`` its values.
    parts: "tuple[Field, ...]" = ()
    # A zero-extended value: bytes ``significant`` onwards must be zero, for the reason ``note``.
    significant: int = 0
    note: str = ""


def _value(flags: GuestPolicy | PlatformInfo | SignerInfo) -> tuple[int]:
    return (flags.value,)


def _cpuid_values(cpuid: Cpuid) -> tuple[int, int, int]:
    return (cpuid.family, cpuid.model, cpuid.stepping)


def _build_version(build: int, minor: int, major: int) -> BuildVersion:
    return BuildVersion(major, minor, build)


def _build_values(version: BuildVersion) -> tuple[int, int, int]:
    return (version.build, version.minor, version.major)


def _zero_if_none(vector: int | None) -> tuple[int]:
    """A version 5 value built without mitigation vectors encodes them as zero."""
    return (vector or 0,)


def _signature(r: bytes, s: bytes) -> Signature:
    return Signature(int.from_bytes(r, "little"), int.from_bytes(s, "little"))


def _signature_values(signature: Signature) -> tuple[bytes, bytes]:
    return (
        signature.r.to_bytes(SIGNATURE_COMPONENT_SIZE, "little"),
        signature.s.to_bytes(SIGNATURE_COMPONENT_SIZE, "little"),
    )


_P384 = "P-384 values fit in 48 bytes"

# SEV-SNP ABI spec, the ECDSA P-384 with SHA-384 signature format (appendix on digital
# signatures): R and S are little-endian and zero-extended to 72 bytes.
SIGNATURE_LAYOUT: tuple[Field, ...] = (
    Field("R", 0x00, SIGNATURE_COMPONENT_SIZE, "72s", significant=48, note=_P384),
    Field("S", 0x48, SIGNATURE_COMPONENT_SIZE, "72s", significant=48, note=_P384),
    Field("", 0x90, 0x170),
)

# SEV-SNP ABI spec, Table 23 ATTESTATION_REPORT Structure. One-byte spec fields that form one
# value (CPUID, firmware builds) share a row; TCB rows stay raw bytes (layout per product: tcb.py).
REPORT_LAYOUT: tuple[Field, ...] = (
    Field("VERSION", 0x000, 4, "I", "version"),
    Field("GUEST_SVN", 0x004, 4, "I", "guest_svn"),
    Field("POLICY", 0x008, 8, "Q", "policy", GuestPolicy, _value),
    Field("FAMILY_ID", 0x010, 16, "16s", "family_id"),
    Field("IMAGE_ID", 0x020, 16, "16s", "image_id"),
    Field("VMPL", 0x030, 4, "I", "vmpl"),
    Field("SIGNATURE_ALGO", 0x034, 4, "I", "signature_algo"),
    Field("CURRENT_TCB", 0x038, 8, "8s", "current_tcb"),
    Field("PLATFORM_INFO", 0x040, 8, "Q", "platform_info", PlatformInfo, _value),
    Field("signer info", 0x048, 4, "I", "signer_info", SignerInfo, _value),
    Field("", 0x04C, 4),
    Field("REPORT_DATA", 0x050, 64, "64s", "report_data"),
    Field("MEASUREMENT", 0x090, 48, "48s", "measurement"),
    Field("HOST_DATA", 0x0C0, 32, "32s", "host_data"),
    Field("ID_KEY_DIGEST", 0x0E0, 48, "48s", "id_key_digest"),
    Field("AUTHOR_KEY_DIGEST", 0x110, 48, "48s", "author_key_digest"),
    Field("REPORT_ID", 0x140, 32, "32s", "report_id"),
    Field("REPORT_ID_MA", 0x160, 32, "32s", "report_id_ma"),
    Field("REPORTED_TCB", 0x180, 8, "8s", "reported_tcb"),
    Field(
        "CPUID_FAM_ID, CPUID_MOD_ID, CPUID_STEP",
        0x188,
        3,
        "BBB",
        "cpuid",
        Cpuid,
        _cpuid_values,
        since=3,
        label="CPUID fields",
    ),
    Field("", 0x18B, 0x15),
    Field("CHIP_ID", 0x1A0, 64, "64s", "chip_id"),
    Field("COMMITTED_TCB", 0x1E0, 8, "8s", "committed_tcb"),
    Field(
        "CURRENT_BUILD, CURRENT_MINOR, CURRENT_MAJOR",
        0x1E8,
        3,
        "BBB",
        "current_build",
        _build_version,
        _build_values,
    ),
    Field("", 0x1EB, 1),
    Field(
        "COMMITTED_BUILD, COMMITTED_MINOR, COMMITTED_MAJOR",
        0x1EC,
        3,
        "BBB",
        "committed_build",
        _build_version,
        _build_values,
    ),
    Field("", 0x1EF, 1),
    Field("LAUNCH_TCB", 0x1F0, 8, "8s", "launch_tcb"),
    Field("LAUNCH_MIT_VECTOR", 0x1F8, 8, "Q", "launch_mit_vector", encode=_zero_if_none, since=5),
    Field("CURRENT_MIT_VECTOR", 0x200, 8, "Q", "current_mit_vector", encode=_zero_if_none, since=5),
    Field("", 0x208, 0x98),
    Field(
        "SIGNATURE",
        SIGNED_REGION_END,
        REPORT_SIZE - SIGNED_REGION_END,
        attr="signature",
        decode=_signature,
        encode=_signature_values,
        parts=SIGNATURE_LAYOUT,
    ),
)


def _present(field: Field, version: int) -> bool:
    return bool(field.fmt or field.parts) and field.since <= version


def _format(field: Field, version: int) -> str:
    """The ``struct`` format of a row in ``version``: reserved and absent rows are padding."""
    if not _present(field, version):
        return f"{field.size}x"
    return "".join(_format(part, version) for part in field.parts) or field.fmt


def _span(begin: int, end: int) -> str:
    return f"0x{begin:03X}" if end - begin == 1 else f"0x{begin:03X}-0x{end - 1:03X}"


Region = tuple[int, int, str]  # (start, end, name) of bytes that must be zero


def _part_zeros(field: Field) -> list[Region]:
    """Must-be-zero bytes inside a nested row, named after it (e.g. "signature R bytes 48-71")."""
    owner = field.name.lower()
    regions = []
    for part in field.parts:
        begin = field.offset + part.offset
        if not (part.fmt or part.parts):
            name = f"{owner} bytes {_span(begin, begin + part.size)}"
            regions.append((begin, begin + part.size, name))
        elif part.significant:
            name = f"{owner} {part.name} bytes {part.significant}-{part.size - 1} ({part.note})"
            regions.append((begin + part.significant, begin + part.size, name))
    return regions


def _zero_regions(version: int) -> tuple[Region, ...]:
    """Every byte range that must be zero in a report of ``version``, in offset order.

    Adjacent reserved and absent rows form one range, named by offsets and by the ``label`` of
    any absent row in it.
    """
    regions: list[Region] = []
    merged: list[tuple[int, int, list[str]]] = []
    for field in REPORT_LAYOUT:
        end = field.offset + field.size
        if _present(field, version):
            regions += [(b, e, _span(b, e) + _why(labels, version)) for b, e, labels in merged]
            merged = []
            regions += _part_zeros(field)
            continue
        labels = [field.label] if field.label else []
        if merged and merged[-1][1] == field.offset:
            merged[-1] = (merged[-1][0], end, merged[-1][2] + labels)
        else:
            merged.append((field.offset, end, labels))
    regions += [(b, e, _span(b, e) + _why(labels, version)) for b, e, labels in merged]
    return tuple(regions)


def _why(labels: list[str], version: int) -> str:
    return f" ({', '.join(labels)} are reserved in version {version})" if labels else ""


def _mask(regions: tuple[Region, ...]) -> int:
    mask = bytearray(REPORT_SIZE)
    for begin, end, _ in regions:
        mask[begin:end] = b"\xff" * (end - begin)
    return int.from_bytes(mask, "little")


class _Codec(NamedTuple):
    """Everything parse and serialise need for one report version, derived from the table."""

    layout: struct.Struct
    plain_attrs: tuple[str, ...]  # attributes stored as unpacked, in ``pick_plain`` order
    pick_plain: Callable[[tuple[Any, ...]], tuple[Any, ...]]
    single: tuple[tuple[str, int, Decode], ...]  # attr, index of its one value, decode
    grouped: tuple[tuple[str, int, int, Decode], ...]  # attr, values[start:stop], decode
    absent: dict[str, None]
    encoded: tuple[tuple[str, Encode | None, str], ...]  # attr, encode, label
    zero_regions: tuple[Region, ...]
    # One big-integer AND finds any non-zero reserved byte; the slow path then names the field.
    zero_mask: int


def _shared(decode: Decode, fmt: str) -> Decode:
    """Values decoded from integers (flags, CPUID, builds) repeat across one platform's reports
    and are immutable: cache them rather than build a value per report."""
    return functools.lru_cache(maxsize=256)(decode) if fmt and not fmt.strip("BIQ") else decode


@functools.cache
def _codec(version: int) -> _Codec:
    """The codec of a supported ``version``, built on first use: a process verifies one or two
    versions, and building all four at import cost every CLI start-up about 2 ms."""
    plain: list[tuple[str, int]] = []
    single: list[tuple[str, int, Decode]] = []
    grouped: list[tuple[str, int, int, Decode]] = []
    index = 0
    present = [f for f in REPORT_LAYOUT if _present(f, version)]
    for field in present:
        count = len(struct.unpack("<" + _format(field, version), bytes(field.size)))
        if field.decode is None:
            plain.append((field.attr, index))
        elif count == 1:
            single.append((field.attr, index, _shared(field.decode, field.fmt)))
        else:
            grouped.append((field.attr, index, index + count, _shared(field.decode, field.fmt)))
        index += count
    regions = _zero_regions(version)
    return _Codec(
        layout=struct.Struct("<" + "".join(_format(f, version) for f in REPORT_LAYOUT)),
        plain_attrs=tuple(attr for attr, _ in plain),
        pick_plain=itemgetter(*(i for _, i in plain)),
        single=tuple(single),
        grouped=tuple(grouped),
        absent={f.attr: None for f in REPORT_LAYOUT if f.attr and f.since > version},
        encoded=tuple((f.attr, f.encode, f.label) for f in present),
        zero_regions=regions,
        zero_mask=_mask(regions),
    )


_VERSION = struct.Struct("<I")


def _check_reserved(raw: bytes, codec: _Codec) -> None:
    if not int.from_bytes(raw, "little") & codec.zero_mask:
        return
    for begin, end, name in codec.zero_regions:
        region = raw[begin:end]
        if region.count(0) != len(region):
            raise ReportFormatError(f"reserved field {name} is not zero: {region.hex()}")


_REPORT_ORDER = itemgetter(*Report._fields)


def _new_report(fields: dict[str, Any]) -> Report:
    """Build a Report from every one of its fields without keyword-argument matching: the
    value is identical to ``Report(**fields)``, in a fraction of the time."""
    return Report._make(_REPORT_ORDER(fields))


def _check_values(fields: dict[str, Any]) -> None:
    signature_algo = fields["signature_algo"]
    if signature_algo != SIGNATURE_ALGO_ECDSA_P384_SHA384:
        raise ReportFormatError(
            f"SIGNATURE_ALGO is {signature_algo}, expected 1 (ECDSA P-384 with SHA-384)"
        )
    policy = fields["policy"].value
    if policy & ~_POLICY_KNOWN_MASK:
        raise ReportFormatError(f"POLICY 0x{policy:x} sets reserved bits 26-63")
    if not policy & _POLICY_RESERVED_ONE:
        raise ReportFormatError(f"POLICY 0x{policy:x}: reserved bit 17 must be 1")
    signer_info = fields["signer_info"].value
    if signer_info & ~_SIGNER_KNOWN_MASK:
        raise ReportFormatError(f"signer info 0x{signer_info:x} sets reserved bits 5-31")


def parse_report(data: bytes) -> Report:
    """Parse a report strictly; raises ``ReportFormatError`` naming the offending field."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ReportFormatError(f"report must be bytes, got {type(data).__name__}")
    raw = data if isinstance(data, bytes) else bytes(data)
    if len(raw) != REPORT_SIZE:
        raise ReportFormatError(f"report must be {REPORT_SIZE} bytes, got {len(raw)}")
    version = _VERSION.unpack_from(raw)[0]
    if version not in SUPPORTED_REPORT_VERSIONS:
        raise ReportFormatError(
            f"report VERSION {version} is not supported (expected one of "
            f"{', '.join(map(str, SUPPORTED_REPORT_VERSIONS))})"
        )
    codec = _codec(version)
    values = codec.layout.unpack(raw)
    fields = dict(zip(codec.plain_attrs, codec.pick_plain(values), strict=False))
    for attr, index, decode in codec.single:
        fields[attr] = decode(values[index])
    for attr, start, stop, decode in codec.grouped:
        fields[attr] = decode(*values[start:stop])
    _check_values(fields)
    _check_reserved(raw, codec)
    fields.update(codec.absent)
    return _new_report(fields)


def serialise_report(report: Report) -> bytes:
    """Encode a report back into its 1184 bytes (the inverse of ``parse_report``).

    A version outside 2-5 is encoded in the layout of the nearest supported one, so that tests
    can build reports the parser rejects.
    """
    first, last = SUPPORTED_REPORT_VERSIONS[0], SUPPORTED_REPORT_VERSIONS[-1]
    codec = _codec(min(max(report.version, first), last))
    values: list[Any] = []
    try:
        for attr, encode, label in codec.encoded:
            value = getattr(report, attr)
            if encode is None:
                values.append(value)
            elif value is None and label:
                raise ReportFormatError(f"report version {report.version} needs {label}")
            else:
                values += encode(value)
        return codec.layout.pack(*values)
    except (struct.error, OverflowError) as error:
        raise ReportFormatError(f"report field out of range: {error}") from error


def signed_region(data: bytes) -> bytes:
    """The bytes the firmware signs: 0x000..0x29F of the report exactly as received."""
    return bytes(data[:SIGNED_REGION_END])
