"""The report layout table: complete, ordered, sized like its formats, and where the spec says."""

from __future__ import annotations

import struct

import pytest

from akash_snp.attest.constants import REPORT_SIZE, SIGNED_REGION_END, SUPPORTED_REPORT_VERSIONS
from akash_snp.attest.report import REPORT_LAYOUT, SIGNATURE_LAYOUT, Field, Report


def _row(name: str) -> Field:
    (row,) = (field for field in REPORT_LAYOUT if field.name == name)
    return row


@pytest.mark.parametrize(
    ("table", "size"),
    [(REPORT_LAYOUT, REPORT_SIZE), (SIGNATURE_LAYOUT, REPORT_SIZE - SIGNED_REGION_END)],
)
def test_rows_are_sorted_contiguous_and_fill_the_structure(
    table: tuple[Field, ...], size: int
) -> None:
    end = 0
    for field in table:
        assert field.offset == end, f"{field.name or 'reserved'} at 0x{field.offset:X}"
        assert field.size > 0
        end = field.offset + field.size
    assert end == size


def test_formats_match_sizes_and_nested_rows_fill_their_parent() -> None:
    for field in REPORT_LAYOUT + SIGNATURE_LAYOUT:
        if field.fmt:
            assert struct.calcsize("<" + field.fmt) == field.size, field.name
        assert 0 <= field.significant < field.size
    signature = _row("SIGNATURE")
    assert signature.parts == SIGNATURE_LAYOUT
    assert sum(part.size for part in signature.parts) == signature.size


def test_every_report_attribute_has_exactly_one_row() -> None:
    attrs = [field.attr for field in REPORT_LAYOUT if field.attr]
    assert sorted(attrs) == sorted(Report._fields)


def test_reserved_rows_carry_no_value_and_gates_are_known_versions() -> None:
    for field in REPORT_LAYOUT:
        if not (field.fmt or field.parts):
            assert (field.name, field.attr, field.decode, field.encode) == ("", "", None, None)
        assert field.since in SUPPORTED_REPORT_VERSIONS


@pytest.mark.parametrize(
    ("name", "offset", "size"),
    [
        ("VERSION", 0x000, 4),
        ("POLICY", 0x008, 8),
        ("CURRENT_TCB", 0x038, 8),
        ("REPORT_DATA", 0x050, 64),
        ("MEASUREMENT", 0x090, 48),
        ("HOST_DATA", 0x0C0, 32),
        ("REPORTED_TCB", 0x180, 8),
        ("CPUID_FAM_ID, CPUID_MOD_ID, CPUID_STEP", 0x188, 3),
        ("CHIP_ID", 0x1A0, 64),
        ("LAUNCH_TCB", 0x1F0, 8),
        ("CURRENT_MIT_VECTOR", 0x200, 8),
        ("SIGNATURE", 0x2A0, 0x200),
    ],
)
def test_well_known_offsets_match_the_spec(name: str, offset: int, size: int) -> None:
    row = _row(name)
    assert (row.offset, row.size) == (offset, size)


def test_signature_components_are_72_bytes_from_the_signature_start() -> None:
    assert [(p.name, p.offset, p.size) for p in SIGNATURE_LAYOUT if p.fmt] == [
        ("R", 0x00, 72),
        ("S", 0x48, 72),
    ]
    assert _row("SIGNATURE").offset == SIGNED_REGION_END
