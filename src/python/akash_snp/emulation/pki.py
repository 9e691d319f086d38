"""An emulated AMD key hierarchy and SNP firmware signer, for tests, demos and test data.

Shaped exactly like AMD's (VCEK spec): RSA-4096 ARK/ASK/ASVK signing with RSA-PSS SHA-384 salt 48,
AMD's subject names, EC P-384 VCEK/VLEK with serial number 0 and AMD's extensions. Every subject
also carries a ``dnQualifier`` marker so an emulated certificate is never mistaken for AMD's. The
root is never trusted by the library unless a caller passes it explicitly as an extra root.

RSA keys cannot be derived from a seed with ``cryptography``, so they are generated once and
stored in the PKI directory (``ark.pem`` is the root; ``*-key.pem`` the private keys). Everything
else (EC keys, certificates, CRLs, report signatures) is derived deterministically from the seed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from akash_snp.attest.certtable import CertTableEntry, build_cert_table
from akash_snp.attest.constants import (
    AMD_COUNTRY,
    AMD_LOCALITY,
    AMD_ORGANIZATION,
    AMD_ORGANIZATIONAL_UNIT,
    AMD_PSS_SALT_LENGTH,
    AMD_RSA_KEY_BITS,
    AMD_STATE,
    CHIP_ID_SIZE,
    GUID_ARK,
    GUID_ASK,
    GUID_VCEK,
    GUID_VLEK,
    OID_BL_SPL,
    OID_CSP_ID,
    OID_FMC_SPL,
    OID_HWID,
    OID_PRODUCT_NAME,
    OID_RESERVED_SPLS,
    OID_SNP_SPL,
    OID_STRUCT_VERSION,
    OID_TEE_SPL,
    OID_UCODE_SPL,
    TCB_LAYOUT,
    VCEK_COMMON_NAME,
    VLEK_COMMON_NAME,
    Product,
    TcbLayout,
    ark_common_name,
    ask_common_name,
    asvk_common_name,
    parse_product,
)
from akash_snp.attest.tcb import TcbVersion
from akash_snp.emulation.firmware import DEFAULT_POLICY, DEFAULT_TCB, sign, unsigned_report
from akash_snp.emulation.pss import sign_pss_sha384

EMULATED_MARKER = "akash-snp EMULATED AMD PKI - not AMD"
EPOCH = datetime(2025, 1, 1, tzinfo=timezone.utc)
DEFAULT_SEED = b"akash-snp emulated amd v1"
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=AMD_PSS_SALT_LENGTH)
_P384_ORDER = int(
    "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973",
    16,
)
_VCEK_PRODUCT_NAME = {Product.MILAN: "Milan-B0", Product.GENOA: "Genoa", Product.TURIN: "Turin"}
_ROLE_SERIAL_BASE = {Product.MILAN: 0x10000, Product.GENOA: 0x20000, Product.TURIN: 0x30000}


def is_emulated(cert: x509.Certificate) -> bool:
    """True for certificates made by this module (they carry the dnQualifier marker)."""
    marks = cert.subject.get_attributes_for_oid(NameOID.DN_QUALIFIER)
    return any(m.value == EMULATED_MARKER for m in marks)


def amd_name(common_name: str) -> x509.Name:
    """AMD's subject layout (OU, C, L, ST, O, CN) plus the emulation marker."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, AMD_ORGANIZATIONAL_UNIT),
            x509.NameAttribute(NameOID.COUNTRY_NAME, AMD_COUNTRY),
            x509.NameAttribute(NameOID.LOCALITY_NAME, AMD_LOCALITY),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, AMD_STATE),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, AMD_ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.DN_QUALIFIER, EMULATED_MARKER),
        ]
    )


def _der_integer(value: int) -> bytes:
    content = value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big")
    return bytes([0x02, len(content)]) + content


def _der_ia5(text: str) -> bytes:
    raw = text.encode("ascii")
    return bytes([0x16, len(raw)]) + raw


def _amd_extension(oid: str, value: bytes) -> x509.UnrecognizedExtension:
    return x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value)


def _resign(
    der: bytes, tbs: bytes, key: rsa.RSAPrivateKey, seed: bytes, zero_serial: bool
) -> bytes:
    """Replace a certificate's/CRL's signature by a deterministic PSS one (and serial 1 -> 0)."""
    start = der.index(tbs)
    new_tbs = tbs
    if zero_serial:
        # TBS starts: SEQUENCE(4 bytes) [0] version (5 bytes) INTEGER serial 02 01 01.
        if tbs[9:12] != b"\x02\x01\x01":
            raise AssertionError("placeholder serial not found where expected")
        new_tbs = tbs[:11] + b"\x00" + tbs[12:]
    signature = sign_pss_sha384(key, new_tbs, seed)
    body = der[:start] + new_tbs + der[start + len(tbs) :]
    return body[: -len(signature)] + signature


def _save_key(path: Path, key: rsa.RSAPrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _load_key(path: Path) -> rsa.RSAPrivateKey:
    # Our own key files: skip the slow RSA consistency check.
    key = serialization.load_pem_private_key(
        path.read_bytes(), password=None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} does not hold an RSA private key")
    return key


@dataclass(frozen=True)
class SignedReport:
    """What emulated firmware returns: the report and the extended-report certificate table."""

    report: bytes
    cert_table: bytes
    endorsement_der: bytes


@dataclass(frozen=True)
class EmulatedAmd:
    """One product's emulated ARK/ASK/ASVK, able to issue VCEKs/VLEKs, CRLs and sign reports."""

    product: Product
    seed: bytes
    ark_key: rsa.RSAPrivateKey
    ask_key: rsa.RSAPrivateKey
    asvk_key: rsa.RSAPrivateKey
    _memo: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    # --- creation / storage ---

    @classmethod
    def load_or_create(
        cls, directory: Path, product: str | Product = "Genoa", seed: bytes = DEFAULT_SEED
    ) -> EmulatedAmd:
        """Load the PKI from ``directory`` or create it there (``ark.pem`` is the root)."""
        parsed = product if isinstance(product, Product) else parse_product(product)
        directory = Path(directory)
        existing = directory / "ark.pem"
        if existing.is_file():
            names = x509.load_pem_x509_certificate(existing.read_bytes()).subject
            common_name = str(names.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
            if common_name != ark_common_name(parsed):
                raise ValueError(f"{directory} holds the PKI of {common_name}, not {parsed.value}")
        keys = {}
        for role in ("ark", "ask", "asvk"):
            path = directory / f"{role}-key.pem"
            if path.is_file():
                keys[role] = _load_key(path)
            else:
                directory.mkdir(parents=True, exist_ok=True)
                keys[role] = rsa.generate_private_key(65537, AMD_RSA_KEY_BITS)
                _save_key(path, keys[role])
        pki = cls(parsed, seed + parsed.value.encode(), keys["ark"], keys["ask"], keys["asvk"])
        pki.write(directory)
        return pki

    @classmethod
    def load(
        cls, directory: Path, product: str | Product = "Genoa", seed: bytes = DEFAULT_SEED
    ) -> EmulatedAmd:
        """Load an existing PKI directory; never generates keys."""
        parsed = product if isinstance(product, Product) else parse_product(product)
        ark, ask, asvk = (
            _load_key(Path(directory) / f"{r}-key.pem") for r in ("ark", "ask", "asvk")
        )
        return cls(parsed, seed + parsed.value.encode(), ark, ask, asvk)

    def write(self, directory: Path) -> None:
        """Write the public certificates: ark.pem, ask.pem, asvk.pem and the two KDS chains."""
        files = {
            "ark.pem": self.ark_pem(),
            "ask.pem": self._pem(self.ask_der()),
            "asvk.pem": self._pem(self.asvk_der()),
            "vcek_chain.pem": self.chain_pem("vcek"),
            "vlek_chain.pem": self.chain_pem("vlek"),
        }
        for name, content in files.items():
            path = directory / name
            if not path.is_file() or path.read_bytes() != content:
                path.write_bytes(content)

    # --- the CA certificates ---

    def _ca_cert(
        self,
        common_name: str,
        key: rsa.RSAPrivateKey,
        issuer_key: rsa.RSAPrivateKey,
        issuer_name: str,
        serial: int,
    ) -> bytes:
        now = EPOCH - timedelta(days=365 * 5)
        builder = (
            x509.CertificateBuilder()
            .subject_name(amd_name(common_name))
            .issuer_name(amd_name(issuer_name))
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(now)
            .not_valid_after(now + timedelta(days=365 * 25))
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            [
                                x509.UniformResourceIdentifier(
                                    f"https://kdsintf.amd.com/vcek/v1/{self.product.value}/crl"
                                )
                            ],
                            None,
                            None,
                            None,
                        )
                    ]
                ),
                critical=False,
            )
        )
        if key is not issuer_key:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                critical=False,
            )
        cert = builder.sign(issuer_key, hashes.SHA384(), rsa_padding=_PSS)
        return _resign(
            cert.public_bytes(serialization.Encoding.DER),
            cert.tbs_certificate_bytes,
            issuer_key,
            self.seed,
            zero_serial=False,
        )

    def _memoised(self, name: str, make: Callable[[], bytes]) -> bytes:
        if name not in self._memo:
            self._memo[name] = make()
        return self._memo[name]

    def ark_der(self) -> bytes:
        return self._memoised("ark", self._make_ark)

    def ask_der(self) -> bytes:
        return self._memoised("ask", self._make_ask)

    def asvk_der(self) -> bytes:
        return self._memoised("asvk", self._make_asvk)

    def _make_ark(self) -> bytes:
        base = _ROLE_SERIAL_BASE[self.product]
        name = ark_common_name(self.product)
        return self._ca_cert(name, self.ark_key, self.ark_key, name, base)

    def _make_ask(self) -> bytes:
        base = _ROLE_SERIAL_BASE[self.product]
        return self._ca_cert(
            ask_common_name(self.product),
            self.ask_key,
            self.ark_key,
            ark_common_name(self.product),
            base + 1,
        )

    def _make_asvk(self) -> bytes:
        base = _ROLE_SERIAL_BASE[self.product]
        return self._ca_cert(
            asvk_common_name(self.product),
            self.asvk_key,
            self.ark_key,
            ark_common_name(self.product),
            base + 0x101,
        )

    def ark_certificate(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(self.ark_der())

    @staticmethod
    def _pem(der: bytes) -> bytes:
        return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)

    def ark_pem(self) -> bytes:
        return self._pem(self.ark_der())

    def chain_pem(self, kind: str = "vcek") -> bytes:
        """As KDS serves it: ASK (vcek) or ASVK (vlek) first, then ARK."""
        middle = self.ask_der() if kind == "vcek" else self.asvk_der()
        return self._pem(middle) + self.ark_pem()

    # --- endorsement keys ---

    def default_chip_id(self) -> bytes:
        digest = hashlib.sha512(self.seed + b"chip").digest()
        return digest[: CHIP_ID_SIZE[self.product]].ljust(64, b"\0")

    def _derive_ec(self, label: bytes) -> ec.EllipticCurvePrivateKey:
        digest = hashlib.sha512(self.seed + label).digest()
        value = int.from_bytes(digest, "big") % (_P384_ORDER - 1) + 1
        return ec.derive_private_key(value, ec.SECP384R1())

    def vcek_key(self, chip_id: bytes, tcb: TcbVersion) -> ec.EllipticCurvePrivateKey:
        size = CHIP_ID_SIZE[self.product]
        return self._derive_ec(b"vcek" + chip_id[:size] + repr(tcb).encode())

    def vlek_key(self, tcb: TcbVersion) -> ec.EllipticCurvePrivateKey:
        return self._derive_ec(b"vlek" + repr(tcb).encode())

    def _spl_extensions(
        self, tcb: TcbVersion, product_name: str
    ) -> list[x509.UnrecognizedExtension]:
        turin = TCB_LAYOUT[self.product] is TcbLayout.TURIN
        exts = [
            _amd_extension(OID_STRUCT_VERSION, _der_integer(1 if turin else 0)),
            _amd_extension(OID_PRODUCT_NAME, _der_ia5(product_name)),
            _amd_extension(OID_BL_SPL, _der_integer(tcb.bootloader)),
            _amd_extension(OID_TEE_SPL, _der_integer(tcb.tee)),
        ]
        exts += [_amd_extension(oid, _der_integer(0)) for oid in OID_RESERVED_SPLS]
        exts += [
            _amd_extension(OID_SNP_SPL, _der_integer(tcb.snp)),
            _amd_extension(OID_UCODE_SPL, _der_integer(tcb.microcode)),
        ]
        if turin:
            exts.append(_amd_extension(OID_FMC_SPL, _der_integer(tcb.fmc)))
        return exts

    def _endorsement(
        self,
        common_name: str,
        key: ec.EllipticCurvePrivateKey,
        issuer_name: str,
        issuer_key: rsa.RSAPrivateKey,
        extensions: list[x509.UnrecognizedExtension],
        not_before: datetime,
        lifetime: timedelta,
    ) -> bytes:
        builder = (
            x509.CertificateBuilder()
            .subject_name(amd_name(common_name))
            .issuer_name(amd_name(issuer_name))
            .public_key(key.public_key())
            .serial_number(1)  # becomes AMD's serial 0 in _resign
            .not_valid_before(not_before)
            .not_valid_after(not_before + lifetime)
        )
        for extension in extensions:
            builder = builder.add_extension(extension, critical=False)
        cert = builder.sign(issuer_key, hashes.SHA384(), rsa_padding=_PSS)
        return _resign(
            cert.public_bytes(serialization.Encoding.DER),
            cert.tbs_certificate_bytes,
            issuer_key,
            self.seed,
            zero_serial=True,
        )

    def vcek_der(
        self,
        chip_id: bytes,
        tcb: TcbVersion,
        *,
        not_before: datetime = EPOCH,
        wrap_hwid: bool = False,
    ) -> bytes:
        """The VCEK for a chip at a TCB (7-year validity, hwID raw or OCTET-STRING wrapped)."""
        memo = f"vcek {chip_id.hex()} {tcb!r} {not_before.isoformat()} {wrap_hwid}"
        return self._memoised(memo, lambda: self._make_vcek(chip_id, tcb, not_before, wrap_hwid))

    def _make_vcek(
        self, chip_id: bytes, tcb: TcbVersion, not_before: datetime, wrap_hwid: bool
    ) -> bytes:
        hwid = chip_id[: CHIP_ID_SIZE[self.product]]
        value = bytes([0x04, len(hwid)]) + hwid if wrap_hwid else hwid
        exts = self._spl_extensions(tcb, _VCEK_PRODUCT_NAME[self.product])
        exts.append(_amd_extension(OID_HWID, value))
        return self._endorsement(
            VCEK_COMMON_NAME,
            self.vcek_key(chip_id, tcb),
            ask_common_name(self.product),
            self.ask_key,
            exts,
            not_before,
            timedelta(days=365 * 7),
        )

    def vlek_der(
        self,
        tcb: TcbVersion,
        *,
        not_before: datetime = EPOCH,
        csp_id: str = "CN=emulated-csp.example",
    ) -> bytes:
        """The VLEK at a TCB (1-year validity, CSP_ID extension, no hwID)."""
        exts = self._spl_extensions(tcb, self.product.value)
        exts.append(_amd_extension(OID_CSP_ID, _der_ia5(csp_id)))
        return self._endorsement(
            VLEK_COMMON_NAME,
            self.vlek_key(tcb),
            asvk_common_name(self.product),
            self.asvk_key,
            exts,
            not_before,
            timedelta(days=365),
        )

    def crl_der(
        self,
        revoked_serials: tuple[int, ...] = (),
        *,
        this_update: datetime = EPOCH,
        next_update: datetime | None = None,
    ) -> bytes:
        """A CRL signed by the ARK, as KDS serves it (DER)."""
        memo = f"crl {revoked_serials} {this_update.isoformat()} {next_update}"
        return self._memoised(
            memo, lambda: self._make_crl(revoked_serials, this_update, next_update)
        )

    def _make_crl(
        self, revoked_serials: tuple[int, ...], this_update: datetime, next_update: datetime | None
    ) -> bytes:
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(amd_name(ark_common_name(self.product)))
            .last_update(this_update)
            .next_update(next_update or this_update + timedelta(days=365 * 3))
        )
        for serial in revoked_serials:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(this_update)
                .build()
            )
        crl = builder.sign(self.ark_key, hashes.SHA384(), rsa_padding=_PSS)
        return _resign(
            crl.public_bytes(serialization.Encoding.DER),
            crl.tbs_certlist_bytes,
            self.ark_key,
            self.seed,
            zero_serial=False,
        )

    def ask_serial(self) -> int:
        return _ROLE_SERIAL_BASE[self.product] + 1

    # --- the firmware ---

    def attest(
        self,
        report_data: bytes = bytes(64),
        *,
        version: int = 3,
        vmpl: int = 0,
        signing_key: str = "VCEK",
        tcb: TcbVersion | None = None,
        chip_id: bytes | None = None,
        mask_chip_id: bool = False,
        measurement: bytes = bytes(48),
        host_data: bytes = bytes(32),
        policy: int = DEFAULT_POLICY,
        not_before: datetime = EPOCH,
        include_ca: bool = True,
    ) -> SignedReport:
        """A signed report plus the extended-report certificate table the host would supply."""
        tcb = tcb or DEFAULT_TCB[self.product]
        chip = chip_id if chip_id is not None else self.default_chip_id()
        report = unsigned_report(
            self.product,
            version=version,
            report_data=report_data,
            vmpl=vmpl,
            signing_key=signing_key,
            chip_id=chip,
            tcb=tcb,
            measurement=measurement,
            host_data=host_data,
            policy=policy,
            mask_chip_id=mask_chip_id,
        )
        if signing_key == "VCEK":
            key, endorsement = (
                self.vcek_key(chip, tcb),
                self.vcek_der(chip, tcb, not_before=not_before),
            )
            entries = [CertTableEntry(GUID_VCEK, endorsement)]
            middle = self.ask_der()
        else:
            key, endorsement = self.vlek_key(tcb), self.vlek_der(tcb, not_before=not_before)
            entries = [CertTableEntry(GUID_VLEK, endorsement)]
            middle = self.asvk_der()
        if include_ca:
            entries = [
                CertTableEntry(GUID_ARK, self.ark_der()),
                CertTableEntry(GUID_ASK, middle),
                *entries,
            ]
        return SignedReport(sign(report, key), build_cert_table(entries), endorsement)
