"""How a verifier's nonce becomes REPORT_DATA: the one definition shared by the attesting
services (which ask the firmware for it) and every verifier (``Policy.nonce``: the node agent
on its own answers, ``snp-verify url`` on the tenant's side). It imports no cryptography: the
agent-mode sidecar parses nonces too.

REPORT_DATA = SHA-512(b"akash-snp/verify-nonce/v1\\x00" || nonce), 64 bytes. The domain prefix keeps
a nonce-bound report from being mistaken for a report over the same bytes made for any other
purpose, and hashing lets nonces of any length from 1 to 64 bytes fill the field uniformly.
"""

from __future__ import annotations

import hashlib
import re

from akash_snp.attest.errors import AttestError

NONCE_DOMAIN = b"akash-snp/verify-nonce/v1\x00"
MIN_NONCE_BYTES = 1
MAX_NONCE_BYTES = 64


_HEX_BYTES = re.compile(r"(?:[0-9a-fA-F]{2})+")

NONCE_BINDING = 'SHA-512("akash-snp/verify-nonce/v1\\0" || nonce)'
"""The binding above, as /verify shows it."""


class NonceError(AttestError, ValueError):
    """The nonce is not 1..64 bytes of hexadecimal."""


def parse_nonce_hex(text: str) -> bytes:
    """Decode a nonce given as hex text (1..64 bytes), or raise ``NonceError`` saying why.

    Strict: only pairs of hex digits. ``bytes.fromhex`` would also take spaces, so ``ab cd`` (or
    ``ab+cd`` in a query string) would name the same nonce as ``abcd``.
    """
    if not text:
        raise NonceError("nonce is empty; expected 1 to 64 bytes as hex")
    if not _HEX_BYTES.fullmatch(text):
        raise NonceError(f"nonce is not hexadecimal: {text[:40]!r}")
    nonce = bytes.fromhex(text)
    if not MIN_NONCE_BYTES <= len(nonce) <= MAX_NONCE_BYTES:
        raise NonceError(
            f"nonce is {len(nonce)} bytes; expected {MIN_NONCE_BYTES} to {MAX_NONCE_BYTES}"
        )
    return nonce


def report_data_for_nonce(nonce: bytes) -> bytes:
    """The 64-byte REPORT_DATA that commits to ``nonce`` (see the module docstring)."""
    if not MIN_NONCE_BYTES <= len(nonce) <= MAX_NONCE_BYTES:
        raise NonceError(
            f"nonce is {len(nonce)} bytes; expected {MIN_NONCE_BYTES} to {MAX_NONCE_BYTES}"
        )
    return hashlib.sha512(NONCE_DOMAIN + nonce).digest()


PERIODIC_DOMAIN = b"akash-snp/periodic/v1\x00"


def periodic_binding(timestamp: str) -> str:
    """How a periodic report's REPORT_DATA was derived, as /verify shows it."""
    return f'SHA-512("akash-snp/periodic/v1\\0" || "{timestamp}")'


def report_data_for_periodic(timestamp: str) -> bytes:
    """REPORT_DATA of a periodic (not nonce-bound) report: SHA-512(domain || RFC 3339 time).

    It proves nothing about freshness to a remote verifier; only a verifier's own nonce does.
    """
    return hashlib.sha512(PERIODIC_DOMAIN + timestamp.encode("ascii")).digest()
