"""Deterministic RSASSA-PSS signing (SHA-384, MGF1-SHA-384, 48-byte salt) for the emulated PKI.

``cryptography`` draws the PSS salt at random, so re-signing the same certificate gives other
bytes. Deriving the salt from a seed and the message keeps regenerated test data byte-identical,
while the result is an ordinary PSS signature any verifier accepts (RFC 8017 §9.1.1). Test-only:
the salt derivation is public, which is fine for an emulated PKI and wrong for real keys.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives.asymmetric import rsa

_HASH_LEN = 48
_SALT_LEN = 48


def _mgf1(seed: bytes, length: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < length:
        out += hashlib.sha384(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return bytes(out[:length])


def _encode(message: bytes, salt: bytes, em_bits: int) -> bytes:
    em_len = (em_bits + 7) // 8
    m_hash = hashlib.sha384(message).digest()
    h = hashlib.sha384(bytes(8) + m_hash + salt).digest()
    db = bytes(em_len - _SALT_LEN - _HASH_LEN - 2) + b"\x01" + salt
    masked = bytearray(a ^ b for a, b in zip(db, _mgf1(h, len(db)), strict=True))
    masked[0] &= 0xFF >> (8 * em_len - em_bits)
    return bytes(masked) + h + b"\xbc"


def sign_pss_sha384(key: rsa.RSAPrivateKey, message: bytes, salt_seed: bytes) -> bytes:
    """PSS-sign ``message``; the salt is SHA-384(salt_seed || message)."""
    salt = hashlib.sha384(salt_seed + message).digest()[:_SALT_LEN]
    numbers = key.private_numbers()
    n = numbers.public_numbers.n
    encoded = _encode(message, salt, n.bit_length() - 1)
    m = int.from_bytes(encoded, "big")
    # RSA with the Chinese remainder theorem.
    s1 = pow(m, numbers.dmp1, numbers.p)
    s2 = pow(m, numbers.dmq1, numbers.q)
    s = s2 + numbers.q * ((numbers.iqmp * (s1 - s2)) % numbers.p)
    return s.to_bytes((n.bit_length() + 7) // 8, "big")
