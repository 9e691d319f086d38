"""Authenticity of the AMD certificate chain: ARK -> ASK/ASVK -> VCEK/VLEK.

Each link is checked by hand (observed: ``PolicyBuilder`` rejects AMD's VCEKs, which carry no
Authority Key Identifier): issuer name, RSA-PSS SHA-384 with MGF1-SHA-384 and a salt of exactly 48
bytes, validity at a given time. The root is trusted only when its DER's SHA-256 equals AMD's pin
for that product, or when the caller passed it explicitly as an extra root. Successful link
verifications are cached by certificate digest so a warm verifier does no RSA work.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import Certificate
from cryptography.x509.oid import SignatureAlgorithmOID

from akash_snp.attest.certs import AmdCertificate
from akash_snp.attest.constants import AMD_ARK_SHA256, AMD_PSS_SALT_LENGTH, Product

AMD_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=AMD_PSS_SALT_LENGTH)

_CACHE_LIMIT = 1024
_verified_links: set[tuple[bytes, bytes]] = set()


def pss_verify(key: rsa.RSAPublicKey, signature: bytes, data: bytes) -> bool:
    """RSASSA-PSS SHA-384 / MGF1-SHA-384 / salt exactly 48 (OpenSSL enforces the salt length)."""
    try:
        key.verify(signature, data, AMD_PSS, hashes.SHA384())
    except InvalidSignature:
        return False
    return True


def verify_link(child: AmdCertificate, issuer: AmdCertificate) -> str | None:
    """Check that ``issuer`` signed ``child``; returns None when it did, else the reason."""
    key = (child.sha256, issuer.sha256)
    if key in _verified_links:
        return None
    if child.cert.issuer != issuer.cert.subject:
        return (
            f"{child.subject_cn} names issuer {child.cert.issuer.rfc4514_string()}, "
            f"not {issuer.cert.subject.rfc4514_string()}"
        )
    if child.signature_oid != SignatureAlgorithmOID.RSASSA_PSS.dotted_string:
        return f"{child.subject_cn} is signed with {child.signature_oid}, not RSASSA-PSS"
    if child.signature_hash != hashes.SHA384.name:
        return f"{child.subject_cn} signature uses {child.signature_hash}, not SHA-384"
    if not isinstance(issuer.public_key, rsa.RSAPublicKey):
        return f"{issuer.subject_cn} does not hold an RSA key"
    if not pss_verify(issuer.public_key, child.signature, child.tbs):
        return (
            f"signature of {child.describe()} does not verify with {issuer.describe()} "
            "(RSA-PSS SHA-384, salt 48)"
        )
    if len(_verified_links) >= _CACHE_LIMIT:
        _verified_links.clear()
    _verified_links.add(key)
    return None


def validity_problem(cert: AmdCertificate, at: datetime) -> str | None:
    """None when ``at`` lies inside the certificate's validity period, else the reason."""
    if at < cert.not_before:
        return (
            f"{cert.subject_cn} is not valid before {cert.not_before.isoformat()} "
            f"(checked at {at.isoformat()})"
        )
    if at > cert.not_after:
        expiry = cert.not_after.isoformat()
        return f"{cert.subject_cn} expired at {expiry} (checked at {at.isoformat()})"
    return None


_root_digests: dict[Certificate, bytes] = {}


def root_fingerprints(extra_roots: Iterable[Certificate]) -> frozenset[bytes]:
    """SHA-256 digests of explicitly trusted extra roots (the emulated PKI, tests)."""
    digests = []
    for root in extra_roots:
        digest = _root_digests.get(root)
        if digest is None:
            if len(_root_digests) >= _CACHE_LIMIT:
                _root_digests.clear()
            digest = root.fingerprint(hashes.SHA256())
            _root_digests[root] = digest
        digests.append(digest)
    return frozenset(digests)


def root_problem(ark: AmdCertificate, product: Product, extra: frozenset[bytes]) -> str | None:
    """None when the ARK is AMD's pinned root for ``product`` or an explicit extra root."""
    if ark.sha256.hex() == AMD_ARK_SHA256[product]:
        return None
    if ark.sha256 in extra:
        return None
    return (
        f"root {ark.subject_cn} sha256 {ark.sha256.hex()} is not AMD's pinned ARK-{product.value} "
        f"({AMD_ARK_SHA256[product]}) nor an explicitly trusted root"
    )


def is_amd_root(ark: AmdCertificate) -> bool:
    """True when the certificate is one of AMD's real, pinned roots."""
    return ark.sha256.hex() == AMD_ARK_SHA256[ark.product]


def clear_cache() -> None:
    """Forget verified links and root digests."""
    _verified_links.clear()
    _root_digests.clear()
