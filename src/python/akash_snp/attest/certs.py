"""AMD endorsement certificates: loading, role recognition and the AMD X.509 extensions.

Roles (ARK, ASK, ASVK, VCEK, VLEK) are recognised from the certificates themselves (subject, issuer,
key type; VCEK spec and VLEK spec), never from file names or positions. Loading accepts PEM, DER,
PEM bundles and extended-report certificate tables. No signature checks here (see chain.py).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import NamedTuple

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from akash_snp.attest import certtable
from akash_snp.attest.constants import (
    AMD_RSA_KEY_BITS,
    OID_BL_SPL,
    OID_CSP_ID,
    OID_FMC_SPL,
    OID_HWID,
    OID_PRODUCT_NAME,
    OID_SNP_SPL,
    OID_STRUCT_VERSION,
    OID_TEE_SPL,
    OID_UCODE_SPL,
    VCEK_COMMON_NAME,
    VLEK_COMMON_NAME,
    Product,
    parse_product,
)
from akash_snp.attest.errors import CertificateError, UnknownProductError
from akash_snp.attest.tcb import TcbVersion

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


class CertRole(str, Enum):
    """Where a certificate sits in AMD's hierarchy."""

    ARK = "ARK"
    ASK = "ASK"
    ASVK = "ASVK"
    VCEK = "VCEK"
    VLEK = "VLEK"


class EndorsementExtensions(NamedTuple):
    """The AMD extensions of a VCEK/VLEK (OID prefix 1.3.6.1.4.1.3704.1); a NamedTuple, as a
    dataclass would cost every ``snp-verify`` start-up about a millisecond to create."""

    struct_version: int
    product_name: str
    tcb: TcbVersion
    hwid: bytes | None
    csp_id: str | None


class AmdCertificate:
    """A parsed certificate with its role, product and (for VCEK/VLEK) AMD extensions.

    Instances are cached by DER, so expensive derived values (public key, digest) are computed
    once per distinct certificate. Immutable; equality and hashing are by identity (verification
    caches checks per certificate object). A plain class with slots: a dataclass would cost every
    ``snp-verify`` start-up about a millisecond to create.
    """

    __slots__ = (
        "cert",
        "sha256",
        "role",
        "product",
        "public_key",
        "extensions",
        "not_before",
        "not_after",
        "signature",
        "tbs",
        "signature_oid",
        "signature_hash",
        "subject_cn",
    )
    cert: x509.Certificate
    sha256: bytes
    role: CertRole
    product: Product
    public_key: PublicKey
    extensions: EndorsementExtensions | None
    not_before: datetime
    not_after: datetime
    signature: bytes
    tbs: bytes
    signature_oid: str
    signature_hash: str | None
    subject_cn: str

    def __init__(
        self,
        *,
        cert: x509.Certificate,
        sha256: bytes,
        role: CertRole,
        product: Product,
        public_key: PublicKey,
        extensions: EndorsementExtensions | None,
        not_before: datetime,
        not_after: datetime,
        signature: bytes,
        tbs: bytes,
        signature_oid: str,
        signature_hash: str | None,
        subject_cn: str,
    ) -> None:
        setter = object.__setattr__  # the class's own ``__setattr__`` refuses (immutable)
        setter(self, "cert", cert)
        setter(self, "sha256", sha256)
        setter(self, "role", role)
        setter(self, "product", product)
        setter(self, "public_key", public_key)
        setter(self, "extensions", extensions)
        setter(self, "not_before", not_before)
        setter(self, "not_after", not_after)
        setter(self, "signature", signature)
        setter(self, "tbs", tbs)
        setter(self, "signature_oid", signature_oid)
        setter(self, "signature_hash", signature_hash)
        setter(self, "subject_cn", subject_cn)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"AmdCertificate is immutable: cannot set {name}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"AmdCertificate is immutable: cannot delete {name}")

    def __repr__(self) -> str:
        return f"AmdCertificate({self.describe()})"

    @property
    def der(self) -> bytes:
        """The DER encoding, made on demand: ``public_bytes`` loads cryptography's serialization
        package (SSH and PKCS#12 code, ~10 ms of every CLI start-up), which verification never
        needs (``sha256`` is the certificate's own fingerprint)."""
        from cryptography.hazmat.primitives.serialization import Encoding

        return self.cert.public_bytes(Encoding.DER)

    def describe(self) -> str:
        return f"{self.role.value} {self.subject_cn} (sha256 {self.sha256.hex()[:16]}...)"


# --- minimal DER readers for the extension values (all are single primitive TLVs) ---


def _der_tlv(raw: bytes, expected_tag: int, what: str) -> bytes:
    if len(raw) < 2 or raw[0] != expected_tag:
        raise CertificateError(
            f"{what}: expected DER tag 0x{expected_tag:02x}, got {raw[:4].hex()}"
        )
    length = raw[1]
    header = 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 2 or len(raw) < 2 + count:
            raise CertificateError(f"{what}: unsupported DER length encoding")
        length = int.from_bytes(raw[2 : 2 + count], "big")
        header = 2 + count
    if header + length != len(raw):
        raise CertificateError(f"{what}: DER length {length} does not match {len(raw) - header}")
    return raw[header:]


def _der_uint(raw: bytes, what: str) -> int:
    content = _der_tlv(raw, 0x02, what)
    if not content or content[0] & 0x80:
        raise CertificateError(f"{what}: not a non-negative INTEGER ({raw.hex()})")
    if len(content) > 1 and content[0] == 0 and not content[1] & 0x80:
        raise CertificateError(f"{what}: INTEGER is not minimally encoded ({raw.hex()})")
    return int.from_bytes(content, "big")


def _der_ia5(raw: bytes, what: str) -> str:
    content = _der_tlv(raw, 0x16, what)
    try:
        return content.decode("ascii")
    except UnicodeDecodeError as error:
        raise CertificateError(f"{what}: IA5String is not ASCII") from error


def _hwid(raw: bytes) -> bytes:
    """hwID is 64 raw bytes (Turin: 8); some certificates wrap it in an OCTET STRING."""
    if len(raw) in (64, 8):
        return raw
    if len(raw) in (66, 10) and raw[0] == 0x04 and raw[1] == len(raw) - 2:
        return raw[2:]
    raise CertificateError(f"hwID extension has unexpected encoding ({len(raw)} bytes)")


def _common_name(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if len(values) != 1 or not isinstance(values[0].value, str):
        raise CertificateError(f"certificate name {name.rfc4514_string()} has no single CN")
    return values[0].value


def parse_endorsement_extensions(cert: x509.Certificate) -> EndorsementExtensions:
    """Read the AMD extensions of a VCEK/VLEK certificate."""
    values: dict[str, bytes] = {}
    for extension in cert.extensions:
        oid = extension.oid.dotted_string
        if isinstance(extension.value, x509.UnrecognizedExtension):
            values[oid] = extension.value.value

    def spl(oid: str, name: str, required: bool = True) -> int:
        if oid not in values:
            if required:
                raise CertificateError(f"endorsement certificate lacks the {name} extension")
            return 0
        value = _der_uint(values[oid], name)
        if value > 0xFF:
            raise CertificateError(f"{name}={value} is outside 0..255")
        return value

    if OID_PRODUCT_NAME not in values:
        raise CertificateError("endorsement certificate lacks the productName extension")
    struct_version = (
        _der_uint(values[OID_STRUCT_VERSION], "structVersion")
        if (OID_STRUCT_VERSION in values)
        else 0
    )
    tcb = TcbVersion(
        bootloader=spl(OID_BL_SPL, "blSPL"),
        tee=spl(OID_TEE_SPL, "teeSPL"),
        snp=spl(OID_SNP_SPL, "snpSPL"),
        microcode=spl(OID_UCODE_SPL, "ucodeSPL"),
        fmc=spl(OID_FMC_SPL, "fmcSPL", required=False),
    )
    return EndorsementExtensions(
        struct_version=struct_version,
        product_name=_der_ia5(values[OID_PRODUCT_NAME], "productName"),
        tcb=tcb,
        hwid=_hwid(values[OID_HWID]) if OID_HWID in values else None,
        csp_id=_der_ia5(values[OID_CSP_ID], "CSP_ID") if OID_CSP_ID in values else None,
    )


def _classify(cert: x509.Certificate) -> tuple[CertRole, Product, PublicKey]:
    subject = _common_name(cert.subject)
    issuer = _common_name(cert.issuer)
    key = cert.public_key()
    if subject in (VCEK_COMMON_NAME, VLEK_COMMON_NAME):
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp384r1":
            raise CertificateError(f"{subject} certificate does not carry an EC P-384 key")
        role = CertRole.VCEK if subject == VCEK_COMMON_NAME else CertRole.VLEK
        prefix = "SEV-VLEK-" if role is CertRole.VLEK else "SEV-"
        if not issuer.startswith(prefix):
            raise CertificateError(f"{subject} certificate issued by unexpected {issuer!r}")
        return role, parse_product(issuer.removeprefix(prefix)), key
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size != AMD_RSA_KEY_BITS:
        raise CertificateError(f"certificate {subject!r} is not an AMD SEV-SNP certificate")
    if subject.startswith("ARK-") and cert.subject == cert.issuer:
        return CertRole.ARK, parse_product(subject.removeprefix("ARK-")), key
    if subject.startswith("SEV-VLEK-") and issuer.startswith("ARK-"):
        return CertRole.ASVK, parse_product(subject.removeprefix("SEV-VLEK-")), key
    if subject.startswith("SEV-") and issuer.startswith("ARK-"):
        return CertRole.ASK, parse_product(subject.removeprefix("SEV-")), key
    raise CertificateError(f"certificate {subject!r} issued by {issuer!r} is not an AMD role")


def from_x509(cert: x509.Certificate) -> AmdCertificate:
    """Wrap an already-parsed certificate, recognising its role.

    ``cryptography`` parses some fields lazily, so every field used later is read here, once,
    and any parse failure becomes a ``CertificateError``.
    """
    try:
        role, product, key = _classify(cert)
        extensions = (
            parse_endorsement_extensions(cert) if role in (CertRole.VCEK, CertRole.VLEK) else None
        )
        return AmdCertificate(
            cert=cert,
            sha256=cert.fingerprint(hashes.SHA256()),
            role=role,
            product=product,
            public_key=key,
            extensions=extensions,
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            signature=cert.signature,
            tbs=cert.tbs_certificate_bytes,
            signature_oid=cert.signature_algorithm_oid.dotted_string,
            signature_hash=_hash_name(cert),
            subject_cn=_common_name(cert.subject),
        )
    except UnknownProductError as error:
        raise CertificateError(f"certificate names no known product: {error}") from error
    except (
        ValueError,
        TypeError,
        UnsupportedAlgorithm,
        x509.DuplicateExtension,
        x509.UnsupportedGeneralNameType,
    ) as error:
        raise CertificateError(f"certificate cannot be interpreted: {error}") from error


def _hash_name(cert: x509.Certificate) -> str | None:
    algorithm = cert.signature_hash_algorithm
    return None if algorithm is None else algorithm.name


_PEM_MARKER = b"-----BEGIN CERTIFICATE-----"
_CACHE_LIMIT = 512
_load_cache: dict[bytes, tuple[AmdCertificate, ...]] = {}


def _parse_x509(blob: bytes) -> list[x509.Certificate]:
    with warnings.catch_warnings():
        # AMD's VCEK/VLEK have serial number 0 (as the real ones in ../shared/testdata/snp-real
        # do), which cryptography warns about.
        warnings.simplefilter("ignore")
        try:
            if _PEM_MARKER in blob:
                return x509.load_pem_x509_certificates(blob)
            if blob[:1] == b"\x30":
                return [x509.load_der_x509_certificate(blob)]
        except ValueError as error:
            raise CertificateError(f"not a valid certificate: {error}") from error
    if certtable.looks_like_cert_table(blob):
        certs: list[x509.Certificate] = []
        for entry in certtable.parse_cert_table(blob):
            certs.extend(_parse_x509(entry.data))
        return certs
    raise CertificateError(
        "input is neither PEM, DER, nor an extended-report certificate table "
        f"(starts with {blob[:8].hex()})"
    )


def load_certificates(blob: bytes) -> tuple[AmdCertificate, ...]:
    """Load every certificate in a PEM/DER/bundle/cert-table blob and recognise its role."""
    blob = bytes(blob)
    cached = _load_cache.get(blob)
    if cached is not None:
        return cached
    if not blob:
        raise CertificateError("empty certificate input")
    loaded = tuple(from_x509(cert) for cert in _parse_x509(blob))
    if len(_load_cache) >= _CACHE_LIMIT:
        _load_cache.clear()
    _load_cache[blob] = loaded
    return loaded


def load_all(blobs: Iterable[bytes]) -> list[AmdCertificate]:
    """Load several blobs, dropping duplicate certificates (same DER)."""
    seen: set[bytes] = set()
    result: list[AmdCertificate] = []
    for blob in blobs:
        for cert in load_certificates(blob):
            if cert.sha256 not in seen:
                seen.add(cert.sha256)
                result.append(cert)
    return result


def clear_cache() -> None:
    """Forget every parsed certificate."""
    _load_cache.clear()
