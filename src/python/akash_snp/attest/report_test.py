"""Report parsing: strict errors, decoded fields, and byte-exact round trips (properties)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from akash_snp.attest.errors import ReportFormatError
from akash_snp.attest.report import (
    BuildVersion,
    Cpuid,
    GuestPolicy,
    PlatformInfo,
    Report,
    Signature,
    SignerInfo,
    parse_report,
    serialise_report,
    signed_region,
)

# Four report versions with thirty fields each: more than the profile's 100 examples.
PROPERTY = settings(max_examples=150)


def _bytes(n: int) -> st.SearchStrategy[bytes]:
    return st.binary(min_size=n, max_size=n)


@st.composite
def reports(draw: st.DrawFn) -> Report:
    version = draw(st.sampled_from([2, 3, 4, 5]))
    u8 = st.integers(0, 255)
    policy = draw(st.integers(0, (1 << 26) - 1)) | (1 << 17)
    return Report(
        version=version,
        guest_svn=draw(st.integers(0, 2**32 - 1)),
        policy=GuestPolicy(policy),
        family_id=draw(_bytes(16)),
        image_id=draw(_bytes(16)),
        vmpl=draw(st.integers(0, 3)),
        signature_algo=1,
        current_tcb=draw(_bytes(8)),
        platform_info=PlatformInfo(draw(st.integers(0, 2**64 - 1))),
        signer_info=SignerInfo(draw(st.integers(0, 0x1F))),
        report_data=draw(_bytes(64)),
        measurement=draw(_bytes(48)),
        host_data=draw(_bytes(32)),
        id_key_digest=draw(_bytes(48)),
        author_key_digest=draw(_bytes(48)),
        report_id=draw(_bytes(32)),
        report_id_ma=draw(_bytes(32)),
        reported_tcb=draw(_bytes(8)),
        cpuid=Cpuid(draw(u8), draw(u8), draw(u8)) if version >= 3 else None,
        chip_id=draw(_bytes(64)),
        committed_tcb=draw(_bytes(8)),
        current_build=BuildVersion(draw(u8), draw(u8), draw(u8)),
        committed_build=BuildVersion(draw(u8), draw(u8), draw(u8)),
        launch_tcb=draw(_bytes(8)),
        launch_mit_vector=draw(st.integers(0, 2**64 - 1)) if version >= 5 else None,
        current_mit_vector=draw(st.integers(0, 2**64 - 1)) if version >= 5 else None,
        signature=Signature(draw(st.integers(0, 2**384 - 1)), draw(st.integers(0, 2**384 - 1))),
    )


@PROPERTY
@given(reports())
def test_serialise_then_parse_round_trips(report: Report) -> None:
    raw = serialise_report(report)
    assert len(raw) == 1184
    assert parse_report(raw) == report
    assert serialise_report(parse_report(raw)) == raw


@PROPERTY
@given(st.binary(max_size=1300))
def test_arbitrary_bytes_raise_only_report_format_errors(data: bytes) -> None:
    try:
        report = parse_report(data)
    except ReportFormatError:
        return
    assert serialise_report(report) == data


@PROPERTY
@given(reports(), st.integers(0, 1183), st.integers(0, 7))
def test_any_bit_flip_parses_to_something_else_or_fails(
    report: Report, offset: int, bit: int
) -> None:
    raw = bytearray(serialise_report(report))
    raw[offset] ^= 1 << bit
    try:
        changed = parse_report(bytes(raw))
    except ReportFormatError:
        return
    assert changed != report


def _valid(version: int = 3) -> bytearray:
    raw = bytearray(1184)
    struct.pack_into("<I", raw, 0, version)
    struct.pack_into("<Q", raw, 0x08, 1 << 17)
    struct.pack_into("<I", raw, 0x34, 1)
    return raw


def test_minimal_report_parses() -> None:
    report = parse_report(bytes(_valid()))
    assert report.version == 3
    assert report.cpuid == Cpuid(0, 0, 0)
    assert report.signer_info.signing_key_name == "VCEK"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r.extend(b"\0"), "must be 1184 bytes, got 1185"),
        (lambda r: struct.pack_into("<I", r, 0, 1), "VERSION 1 is not supported"),
        (lambda r: struct.pack_into("<I", r, 0, 6), "VERSION 6 is not supported"),
        (lambda r: struct.pack_into("<I", r, 0x34, 2), "SIGNATURE_ALGO is 2"),
        (lambda r: struct.pack_into("<Q", r, 0x08, 0), "reserved bit 17 must be 1"),
        (lambda r: struct.pack_into("<Q", r, 0x08, (1 << 17) | (1 << 30)), "reserved bits 26-63"),
        (lambda r: struct.pack_into("<I", r, 0x48, 1 << 5), "reserved bits 5-31"),
        (lambda r: r.__setitem__(0x4C, 1), "0x04C-0x04F"),
        (lambda r: r.__setitem__(0x18B, 1), "0x18B-0x19F"),
        (lambda r: r.__setitem__(0x1EB, 1), "0x1EB"),
        (lambda r: r.__setitem__(0x1EF, 1), "0x1EF"),
        (lambda r: r.__setitem__(0x1F8, 1), "0x1F8-0x29F"),
        (lambda r: r.__setitem__(0x2A0 + 47 + 1, 1), "R bytes 48-71"),
        (lambda r: r.__setitem__(0x2E8 + 71, 1), "S bytes 48-71"),
        (lambda r: r.__setitem__(0x49F, 1), "signature bytes 0x330-0x49F"),
    ],
)
def test_precise_errors(mutate: object, message: str) -> None:
    raw = _valid()
    mutate(raw)  # type: ignore[operator]
    with pytest.raises(ReportFormatError, match=message):
        parse_report(bytes(raw))


def test_v2_requires_zero_cpuid_and_v5_allows_mitigation_vectors() -> None:
    raw = _valid(version=2)
    raw[0x188] = 0x19
    with pytest.raises(ReportFormatError, match="reserved in version 2"):
        parse_report(bytes(raw))
    v5 = _valid(version=5)
    struct.pack_into("<QQ", v5, 0x1F8, 0x11, 0x22)
    parsed = parse_report(bytes(v5))
    assert (parsed.launch_mit_vector, parsed.current_mit_vector) == (0x11, 0x22)
    v5[0x208] = 1
    with pytest.raises(ReportFormatError, match="0x208-0x29F"):
        parse_report(bytes(v5))


def test_decoded_bit_fields() -> None:
    policy = GuestPolicy(0x3F_0000 | 0x0102 | (1 << 22) | (1 << 24) | (1 << 25))
    assert (policy.abi_major, policy.abi_minor) == (1, 2)
    assert policy.smt_allowed
    assert policy.migrate_ma
    assert policy.debug
    assert policy.single_socket
    assert policy.cxl_allowed
    assert policy.mem_aes_256_xts
    assert policy.ciphertext_hiding
    assert policy.page_swap_disabled
    assert not policy.rapl_disabled
    info = PlatformInfo(0b1110_0101)
    assert info.smt_enabled
    assert info.ecc_enabled
    assert info.alias_check_complete
    assert info.tio_enabled
    assert not info.tsme_enabled
    assert not info.rapl_disabled
    assert info.as_dict()["value"] == "0xe5"
    signer = SignerInfo(0b00110)
    assert signer.mask_chip_key
    assert signer.signing_key_name == "VLEK"
    assert not signer.author_key_en
    assert SignerInfo(7 << 2).signing_key_name == "none"


def test_build_versions_decode_major_minor_build() -> None:
    raw = _valid()
    raw[0x1E8:0x1EB] = bytes([29, 55, 1])
    raw[0x1EC:0x1EF] = bytes([3, 49, 1])
    report = parse_report(bytes(raw))
    assert str(report.current_build) == "1.55.29"
    assert str(report.committed_build) == "1.49.3"


def test_signed_region_is_the_first_0x2a0_bytes() -> None:
    raw = bytes(range(256)) * 5
    assert signed_region(raw[:1184]) == raw[:0x2A0]


def test_non_bytes_input_is_a_format_error() -> None:
    with pytest.raises(ReportFormatError, match="must be bytes"):
        parse_report("not bytes")  # type: ignore[arg-type]
