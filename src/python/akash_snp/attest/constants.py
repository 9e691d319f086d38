"""Constants from the AMD specifications, in one place, each with its source.

Sources, cited in the code by the short names in brackets:

- [SEV-SNP ABI spec] AMD "SEV Secure Nested Paging Firmware ABI Specification", publication 56860,
  revision 1.58. Every table and section number in this package is that revision's (e.g. Table 23
  ATTESTATION_REPORT Structure; section 7.3, Table 22 MSG_REPORT_REQ); structures cited by name only
  (TCB_VERSION, GUEST_POLICY, PLATFORM_INFO, the ECDSA P-384 signature format) are too.
- [VCEK spec] AMD "Versioned Chip Endorsement Key (VCEK) Certificate and KDS Interface
  Specification", publication 57230: certificate extensions, KDS URLs, CRLs.
- [VLEK spec] AMD's VLEK specification, publication 58369: the VLEK, its ASVK chain and CRL.
- [GHCB spec] AMD "SEV-ES Guest-Hypervisor Communication Block Standardization", publication 56421:
  the extended guest request's certificate table.

Values the specifications do not state (root pins, product CPUID ranges) say where they come from.
No logic lives here beyond table look-ups.
"""

from __future__ import annotations

from enum import Enum

from akash_snp.attest.errors import UnknownProductError

# --- Report (SEV-SNP ABI spec, Table 23 ATTESTATION_REPORT Structure) ---
REPORT_SIZE = 0x4A0
SIGNED_REGION_END = 0x2A0
SIGNATURE_COMPONENT_SIZE = 72
SUPPORTED_REPORT_VERSIONS = (2, 3, 4, 5)
SIGNATURE_ALGO_ECDSA_P384_SHA384 = 1


class Product(str, Enum):
    """AMD EPYC product lines, spelled as the KDS URL path expects (VCEK spec, KDS interface)."""

    MILAN = "Milan"
    GENOA = "Genoa"
    TURIN = "Turin"


class TcbLayout(Enum):
    """The two TCB_VERSION byte layouts (SEV-SNP ABI spec, TCB_VERSION structure)."""

    MILAN_GENOA = "milan-genoa"  # bl, tee, 4 reserved, snp, ucode
    TURIN = "turin"  # fmc, bl, tee, snp, 3 reserved, ucode


TCB_LAYOUT: dict[Product, TcbLayout] = {
    Product.MILAN: TcbLayout.MILAN_GENOA,
    Product.GENOA: TcbLayout.MILAN_GENOA,
    Product.TURIN: TcbLayout.TURIN,
}

# CHIP_ID / hwID bytes that are significant (VCEK spec, hwID: Turin's is the first 8 bytes).
CHIP_ID_SIZE: dict[Product, int] = {Product.MILAN: 64, Product.GENOA: 64, Product.TURIN: 8}

# CPUID family/model ranges of each KDS product (Genoa includes Bergamo/Siena Zen4c parts; the
# real recording genoa-zen4c-v3-vcek in ../shared/testdata/snp-real is one).
_CPUID_PRODUCTS: tuple[tuple[int, int, int, Product], ...] = (
    (0x19, 0x00, 0x0F, Product.MILAN),
    (0x19, 0x10, 0x1F, Product.GENOA),
    (0x19, 0xA0, 0xAF, Product.GENOA),
    (0x1A, 0x00, 0x11, Product.TURIN),
)


def product_from_cpuid(family: int, model: int) -> Product:
    """Map a report's CPUID_FAM_ID/CPUID_MOD_ID (v3+) to the KDS product name."""
    for fam, low, high, product in _CPUID_PRODUCTS:
        if family == fam and low <= model <= high:
            return product
    raise UnknownProductError(
        f"CPUID family 0x{family:02x} model 0x{model:02x} is not a known SEV-SNP product "
        "(expected Milan 0x19/0x00-0x0F, Genoa 0x19/0x10-0x1F or 0xA0-0xAF, Turin 0x1A/0x00-0x11)"
    )


def parse_product(name: str) -> Product:
    """Parse a product name such as ``Genoa``, ``milan`` or a VCEK productName ``Milan-B0``."""
    base = name.strip().split("-", 1)[0].lower()
    for product in Product:
        if product.value.lower() == base:
            return product
    raise UnknownProductError(f"unknown product {name!r}; expected one of Milan, Genoa, Turin")


# --- Root pinning: SHA-256 of the DER of each AMD Root Key certificate, as served by KDS
# (``/vcek/v1/<Product>/cert_chain``) and recorded in ../shared/testdata/snp-real/manifest.json ---
AMD_ARK_SHA256: dict[Product, str] = {
    Product.MILAN: "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd",
    Product.GENOA: "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1",
    Product.TURIN: "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a",
}

# --- Certificate names (VCEK spec and VLEK spec, certificate fields) ---
AMD_ORGANIZATION = "Advanced Micro Devices"
AMD_ORGANIZATIONAL_UNIT = "Engineering"
AMD_LOCALITY = "Santa Clara"
AMD_STATE = "CA"
AMD_COUNTRY = "US"
VCEK_COMMON_NAME = "SEV-VCEK"
VLEK_COMMON_NAME = "SEV-VLEK"


def ark_common_name(product: Product) -> str:
    return f"ARK-{product.value}"


def ask_common_name(product: Product) -> str:
    return f"SEV-{product.value}"


def asvk_common_name(product: Product) -> str:
    return f"SEV-VLEK-{product.value}"


# RSA-PSS parameters of ARK/ASK/ASVK signatures (VCEK spec, VLEK spec).
AMD_RSA_KEY_BITS = 4096
AMD_PSS_SALT_LENGTH = 48

# --- Endorsement-key extensions (VCEK spec and VLEK spec, certificate extensions) ---
AMD_OID_PREFIX = "1.3.6.1.4.1.3704.1"
OID_STRUCT_VERSION = AMD_OID_PREFIX + ".1"
OID_PRODUCT_NAME = AMD_OID_PREFIX + ".2"
OID_BL_SPL = AMD_OID_PREFIX + ".3.1"
OID_TEE_SPL = AMD_OID_PREFIX + ".3.2"
OID_SNP_SPL = AMD_OID_PREFIX + ".3.3"
OID_UCODE_SPL = AMD_OID_PREFIX + ".3.8"
OID_FMC_SPL = AMD_OID_PREFIX + ".3.9"
OID_HWID = AMD_OID_PREFIX + ".4"
OID_CSP_ID = AMD_OID_PREFIX + ".5"
OID_RESERVED_SPLS = tuple(f"{AMD_OID_PREFIX}.3.{n}" for n in (4, 5, 6, 7))

# --- Extended report certificate table (GHCB spec, MSG_REPORT_REQ certificate table) ---
GUID_ARK = "c0b406a4-a803-4952-9743-3fb6014cd0ae"
GUID_ASK = "4ab7b379-bbac-4fe4-a02f-05aef327c782"  # ASK or ASVK
GUID_VCEK = "63da758d-e664-4564-adc5-f4b93be8accd"
GUID_VLEK = "a8074bc2-a25a-483e-aae6-39c045a0b8a1"
CERT_TABLE_ENTRY_SIZE = 24

# --- KDS (VCEK spec, chapter 4 KDS interface; VLEK spec) ---
KDS_BASE_URL = "https://kdsintf.amd.com"
