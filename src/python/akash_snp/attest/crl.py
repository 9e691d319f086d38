"""AMD certificate revocation lists: signature by the ARK, revoked intermediates, freshness.

KDS serves one CRL per product and key kind, DER, signed by the ARK with RSA-PSS (VCEK spec and
VLEK spec, CRL; ../shared/testdata/snp-real/amd/milan_vcek.crl is a real one).
"""

from __future__ import annotations

from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import SignatureAlgorithmOID

from akash_snp.attest.certs import AmdCertificate
from akash_snp.attest.chain import pss_verify
from akash_snp.attest.errors import CrlError


def load_crl(data: bytes) -> x509.CertificateRevocationList:
    """Load a CRL from DER or PEM."""
    data = bytes(data)
    try:
        if b"-----BEGIN X509 CRL-----" in data:
            loaded = x509.load_pem_x509_crl(data)
        else:
            loaded = x509.load_der_x509_crl(data)
        # Some fields parse lazily: read each one used later so errors surface here.
        _ = (loaded.issuer, loaded.last_update_utc, loaded.next_update_utc, loaded.signature)
        _ = (
            loaded.tbs_certlist_bytes,
            loaded.signature_algorithm_oid,
            [r.serial_number for r in loaded],
        )
    except ValueError as error:
        raise CrlError(f"not a valid CRL: {error}") from error
    return loaded


def signature_problem(crl: x509.CertificateRevocationList, ark: AmdCertificate) -> str | None:
    """None when ``ark`` issued and signed the CRL (RSA-PSS SHA-384, salt 48)."""
    if crl.issuer != ark.cert.subject:
        return f"CRL issuer {crl.issuer.rfc4514_string()} is not {ark.subject_cn}"
    if crl.signature_algorithm_oid != SignatureAlgorithmOID.RSASSA_PSS:
        return "CRL is not signed with RSASSA-PSS"
    if not isinstance(ark.public_key, rsa.RSAPublicKey):
        return f"{ark.subject_cn} does not hold an RSA key"
    if not pss_verify(ark.public_key, crl.signature, crl.tbs_certlist_bytes):
        return f"CRL signature does not verify with {ark.describe()}"
    return None


def freshness_problem(crl: x509.CertificateRevocationList, at: datetime) -> str | None:
    """None when ``at`` lies between thisUpdate and nextUpdate."""
    if at < crl.last_update_utc:
        return f"CRL thisUpdate {crl.last_update_utc.isoformat()} is after {at.isoformat()}"
    next_update = crl.next_update_utc
    if next_update is not None and at > next_update:
        return f"CRL nextUpdate {next_update.isoformat()} has passed (checked at {at.isoformat()})"
    return None


def revocation_problem(crl: x509.CertificateRevocationList, cert: AmdCertificate) -> str | None:
    """None when ``cert`` (issued by the CRL's issuer) is not listed as revoked."""
    entry = crl.get_revoked_certificate_by_serial_number(cert.cert.serial_number)
    if entry is None:
        return None
    return (
        f"{cert.subject_cn} serial 0x{cert.cert.serial_number:x} was revoked on "
        f"{entry.revocation_date_utc.isoformat()}"
    )
