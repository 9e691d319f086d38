"""The extended-report certificate table (SNP_GET_EXT_REPORT certs, configfs-tsm ``auxblob``).

Format (GHCB spec revision 2.03, section 4.1.8.1 MSG_REPORT_REQ, the reference Linux gives in
Documentation/ABI/testing/configfs-tsm for ``auxblob``): 24-byte entries of GUID (16 bytes, in the
order the string reads), u32 LE offset from the table start, u32 LE length; an all-zero entry ends
the table. Pure data: no certificate parsing happens here.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import NamedTuple

from akash_snp.attest.constants import (
    CERT_TABLE_ENTRY_SIZE,
    GUID_ARK,
    GUID_ASK,
    GUID_VCEK,
    GUID_VLEK,
)
from akash_snp.attest.errors import CertTableError

_ENTRY = struct.Struct("<16sII")
_TERMINATOR = bytes(CERT_TABLE_ENTRY_SIZE)
KNOWN_GUIDS = {GUID_ARK: "ARK", GUID_ASK: "ASK", GUID_VCEK: "VCEK", GUID_VLEK: "VLEK"}


class CertTableEntry(NamedTuple):
    """One table entry: its GUID (lower-case string form) and the bytes it points at (a
    NamedTuple: a dataclass would cost every ``snp-verify`` start-up about a millisecond)."""

    guid: str
    data: bytes


def _guid_text(raw: bytes) -> str:
    """The lower-case string form of a GUID stored in its 16 big-endian bytes, as ``uuid.UUID``
    prints it; formatted here because importing ``uuid`` costs every CLI start-up ~3 ms."""
    h = bytes(raw).hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def looks_like_cert_table(data: bytes) -> bool:
    """True when the blob starts with a known GUID entry (cheap sniffing for mixed inputs)."""
    if len(data) < CERT_TABLE_ENTRY_SIZE:
        return False
    return _guid_text(data[:16]) in KNOWN_GUIDS


def parse_cert_table(data: bytes) -> list[CertTableEntry]:
    """Parse a table; every entry must lie inside the blob and the terminator must be present."""
    data = bytes(data)
    entries: list[CertTableEntry] = []
    position = 0
    while True:
        end = position + CERT_TABLE_ENTRY_SIZE
        if end > len(data):
            raise CertTableError(
                f"certificate table truncated at byte {position}: no all-zero terminator entry "
                f"within {len(data)} bytes"
            )
        if data[position:end] == _TERMINATOR:
            break
        guid_bytes, offset, length = _ENTRY.unpack_from(data, position)
        guid = _guid_text(guid_bytes)
        if length == 0:
            raise CertTableError(f"certificate table entry {guid} has length 0")
        if offset + length > len(data):
            raise CertTableError(
                f"certificate table entry {guid} points at bytes {offset}..{offset + length} "
                f"beyond the table's {len(data)} bytes"
            )
        if offset < end:
            raise CertTableError(
                f"certificate table entry {guid} at offset {offset} overlaps the entry headers"
            )
        entries.append(CertTableEntry(guid=guid, data=data[offset : offset + length]))
        position = end
    return entries


def build_cert_table(entries: Sequence[CertTableEntry]) -> bytes:
    """Build a table: headers, terminator, then each entry's data in order."""
    header_size = (len(entries) + 1) * CERT_TABLE_ENTRY_SIZE
    headers = bytearray()
    body = bytearray()
    for entry in entries:
        if not entry.data:
            raise CertTableError(f"certificate table entry {entry.guid} has no data")
        import uuid  # building tables serves tests and emulation only

        try:
            guid_bytes = uuid.UUID(entry.guid).bytes
        except ValueError as error:
            raise CertTableError(f"invalid GUID {entry.guid!r}") from error
        headers += _ENTRY.pack(guid_bytes, header_size + len(body), len(entry.data))
        body += entry.data
    return bytes(headers) + _TERMINATOR + bytes(body)
