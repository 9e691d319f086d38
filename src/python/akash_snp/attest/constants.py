"""Constants from the AMD specifications, in one place, each with its source.

Sources: AMD SEV-SNP ABI specification (table "ATTESTATION_REPORT", "TCB_VERSION", "GUEST_POLICY",
"PLATFORM_INFO"), AMD "Versioned Chip Endorsement Key (VCEK) Certificate and KDS Interface
Specification" (extensions, URLs), GHCB specification (certificate table GUIDs), and the project's
checked facts in docs/FACTS.md sections 1-3. No logic lives here beyond table look-ups.
"""

from __future__ import annotations

from enum import Enum

from akash_snp.attest.errors import UnknownProductError

# --- Report (ABI spec, ATTESTATION_REPORT; FACTS §1) ---
REPORT_SIZE = 0x4A0
SIGNED_REGION_END = 0x2A0
SIGNATURE_COMPONENT_SIZE = 72
SUPPORTED_REPORT_VERSIONS = (2, 3, 4, 5)
SIGNATURE_ALGO_ECDSA_P384_SHA384 = 1


class Product(str, Enum):
    """AMD EPYC product lines, spelled as the KDS URL path expects (FACTS §1-2)."""

    MILAN = "Milan"
    GENOA = "Genoa"
    TURIN = "Turin"


class TcbLayout(Enum):
    """The two TCB_VERSION byte layouts (ABI spec, TCB_VERSION; FACTS §1)."""

    MILAN_GENOA = "milan-genoa"  # bl, tee, 4 reserved, snp, ucode
    TURIN = "turin"  # fmc, bl, tee, snp, 3 reserved, ucode


TCB_LAYOUT: dict[Product, TcbLayout] = {
    Product.MILAN: TcbLayout.MILAN_GENOA,
    Product.GENOA: TcbLayout.MILAN_GENOA,
    Product.TURIN: TcbLayout.TURIN,
}

# CHIP_ID / hwID bytes that are significant (FACTS §1: Turin uses only the first 8).
CHIP_ID_SIZE: dict[Product, int] = {Product.MILAN: 64, Product.GENOA: 64, Product.TURIN: 8}

# CPUID family/model ranges (FACTS §1; Genoa includes Bergamo/Siena Zen4c parts).
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


# --- Root pinning (FACTS §2): SHA-256 of the DER of each AMD Root Key certificate ---
AMD_ARK_SHA256: dict[Product, str] = {
    Product.MILAN: "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd",
    Product.GENOA: "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1",
    Product.TURIN: "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a",
}

# --- Certificate names (FACTS §2) ---
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


# RSA-PSS parameters of ARK/ASK/ASVK signatures (FACTS §2).
AMD_RSA_KEY_BITS = 4096
AMD_PSS_SALT_LENGTH = 48

# --- Endorsement-key extensions (VCEK spec; FACTS §2) ---
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

# --- Extended report certificate table (GHCB spec; FACTS §3) ---
GUID_ARK = "c0b406a4-a803-4952-9743-3fb6014cd0ae"
GUID_ASK = "4ab7b379-bbac-4fe4-a02f-05aef327c782"  # ASK or ASVK
GUID_VCEK = "63da758d-e664-4564-adc5-f4b93be8accd"
GUID_VLEK = "a8074bc2-a25a-483e-aae6-39c045a0b8a1"
CERT_TABLE_ENTRY_SIZE = 24

# --- KDS (VCEK spec §4; FACTS §2) ---
KDS_BASE_URL = "https://kdsintf.amd.com"
