"""The nonce -> REPORT_DATA binding shared by the sidecar and the CLI."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from akash_snp.attest.nonce import (
    NONCE_BINDING,
    NonceError,
    parse_nonce_hex,
    periodic_binding,
    report_data_for_nonce,
    report_data_for_periodic,
)


def test_binding_is_the_documented_domain_separated_hash() -> None:
    nonce = bytes.fromhex("00ff")
    expected = hashlib.sha512(b"akash-snp/verify-nonce/v1\x00\x00\xff").digest()
    assert report_data_for_nonce(nonce) == expected
    assert len(expected) == 64


def test_periodic_data_differs_from_any_nonce_binding() -> None:
    stamp = "2026-01-01T00:00:00Z"
    assert report_data_for_periodic(stamp) != report_data_for_nonce(stamp.encode())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("zz", "not hexadecimal"),
        ("abc", "not hexadecimal"),
        ("ab cd", "not hexadecimal"),
        (" abcd", "not hexadecimal"),
        ("abcd\n", "not hexadecimal"),
        ("00" * 65, "65 bytes"),
    ],
)
def test_bad_nonces_are_refused(text: str, message: str) -> None:
    with pytest.raises(NonceError, match=message):
        parse_nonce_hex(text)


def test_report_data_refuses_empty_nonce() -> None:
    with pytest.raises(NonceError):
        report_data_for_nonce(b"")


@given(st.binary(min_size=1, max_size=64))
def test_hex_round_trip(nonce: bytes) -> None:
    assert parse_nonce_hex(nonce.hex()) == nonce
    assert parse_nonce_hex(nonce.hex().upper()) == nonce


def test_binding_descriptions_name_the_domains() -> None:
    assert NONCE_BINDING == 'SHA-512("akash-snp/verify-nonce/v1\\0" || nonce)'
    assert periodic_binding("2026-01-01T00:00:00Z") == (
        'SHA-512("akash-snp/periodic/v1\\0" || "2026-01-01T00:00:00Z")'
    )
