"""Extended-report certificate table: build/parse round trip and precise errors."""

from __future__ import annotations

import struct
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from akash_snp.attest.certtable import (
    CertTableEntry,
    build_cert_table,
    looks_like_cert_table,
    parse_cert_table,
)
from akash_snp.attest.constants import GUID_ARK, GUID_ASK, GUID_VCEK, GUID_VLEK
from akash_snp.attest.errors import CertTableError

guids = st.one_of(
    st.sampled_from([GUID_ARK, GUID_ASK, GUID_VCEK, GUID_VLEK]),
    st.uuids().map(str),
)
# Tables of up to five entries with free GUIDs and sizes: more than the profile's 100 examples.
TABLES = settings(max_examples=150)
entries = st.lists(st.builds(CertTableEntry, guids, st.binary(min_size=1, max_size=64)), max_size=5)


@TABLES
@given(entries)
def test_round_trip(table: list[CertTableEntry]) -> None:
    raw = build_cert_table(table)
    assert parse_cert_table(raw) == table


@TABLES
@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_table_errors(data: bytes) -> None:
    try:
        table = parse_cert_table(data)
    except CertTableError:
        return  # the library's own error type is the acceptable failure
    assert all(entry.data for entry in table)


def test_guid_bytes_are_in_string_order() -> None:
    raw = build_cert_table([CertTableEntry(GUID_ARK, b"x")])
    assert raw[:16] == bytes.fromhex("c0b406a4a80349529743 3fb6014cd0ae".replace(" ", ""))
    assert struct.unpack_from("<II", raw, 16) == (48, 1)
    assert looks_like_cert_table(raw)
    assert not looks_like_cert_table(uuid.uuid4().bytes + bytes(8))


def test_errors() -> None:
    good = build_cert_table([CertTableEntry(GUID_VCEK, b"abc")])
    with pytest.raises(CertTableError, match="no all-zero terminator"):
        parse_cert_table(struct.pack("<16sII", uuid.UUID(GUID_VCEK).bytes, 24, 3) + b"abc")
    with pytest.raises(CertTableError, match="beyond the table"):
        parse_cert_table(good[:-1])
    with pytest.raises(CertTableError, match="beyond the table"):
        parse_cert_table(good[:24])
    zero_length = bytearray(good)
    struct.pack_into("<I", zero_length, 20, 0)
    with pytest.raises(CertTableError, match="length 0"):
        parse_cert_table(bytes(zero_length))
    overlapping = bytearray(good)
    struct.pack_into("<I", overlapping, 16, 8)
    with pytest.raises(CertTableError, match="overlaps the entry headers"):
        parse_cert_table(bytes(overlapping))
    with pytest.raises(CertTableError, match="invalid GUID"):
        build_cert_table([CertTableEntry("not-a-guid", b"x")])
    with pytest.raises(CertTableError, match="has no data"):
        build_cert_table([CertTableEntry(GUID_ARK, b"")])
