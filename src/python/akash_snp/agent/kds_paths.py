"""Which KDS requests the agent's proxy forwards: exactly the shapes the library itself sends
(``attest/kds.py``), parsed into a canonical form so equal requests share one cache entry.
Anything else is refused: the proxy must not become a general-purpose fetcher on the node."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl

from akash_snp.attest.constants import CHIP_ID_SIZE, TCB_LAYOUT, Product, TcbLayout
from akash_snp.attest.errors import KdsError
from akash_snp.attest.kds import KeyKind, chain_path, crl_path, vcek_path
from akash_snp.attest.tcb import TcbVersion

_FIXED = re.compile(r"/(vcek|vlek)/v1/(Milan|Genoa|Turin)/(cert_chain|crl)")
_VCEK = re.compile(r"/vcek/v1/(Milan|Genoa|Turin)/([0-9a-fA-F]+)")
_SPL = re.compile(r"[0-9]{1,3}")
_SPL_NAMES = ("blSPL", "teeSPL", "snpSPL", "ucodeSPL")


class KdsPathError(ValueError):
    """Not a KDS request the proxy serves."""


@dataclass(frozen=True)
class KdsRequest:
    """One KDS object: ``what`` is ``vcek``, ``cert_chain`` or ``crl``; ``path`` is the
    library's canonical path for it (the cache key)."""

    what: str
    product: Product
    kind: KeyKind
    path: str
    hwid: bytes = b""
    tcb: TcbVersion | None = None


def parse_kds_request(path: str, query: str) -> KdsRequest:
    """Parse ``path`` (below ``/kds``) and its raw query string, or raise ``KdsPathError``."""
    fixed = _FIXED.fullmatch(path)
    if fixed:
        if query:
            raise KdsPathError(f"{path} takes no query parameters")
        kind: KeyKind = "vcek" if fixed.group(1) == "vcek" else "vlek"
        product = Product(fixed.group(2))
        canonical = (chain_path if fixed.group(3) == "cert_chain" else crl_path)(product, kind)
        return KdsRequest(fixed.group(3), product, kind, canonical)
    vcek = _VCEK.fullmatch(path)
    if vcek is None:
        raise KdsPathError(f"not a KDS path this proxy serves: {path}")
    product = Product(vcek.group(1))
    hwid_hex = vcek.group(2)
    if len(hwid_hex) != 2 * CHIP_ID_SIZE[product]:
        raise KdsPathError(f"a {product.value} hwid is {CHIP_ID_SIZE[product]} bytes")
    tcb = _tcb(product, query)
    hwid = bytes.fromhex(hwid_hex)
    try:
        canonical = vcek_path(product, hwid, tcb)
    except KdsError as error:  # an all-zero (masked) chip id
        raise KdsPathError(str(error)) from None
    return KdsRequest("vcek", product, "vcek", canonical, hwid, tcb)


def _tcb(product: Product, query: str) -> TcbVersion:
    names = (*_SPL_NAMES, "fmcSPL") if TCB_LAYOUT[product] is TcbLayout.TURIN else _SPL_NAMES
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise KdsPathError(f"malformed query: {query[:100]!r}") from None
    values = dict(pairs)
    if len(pairs) != len(values) or set(values) != set(names):
        raise KdsPathError(f"a {product.value} VCEK request takes exactly {', '.join(names)}")
    if not all(_SPL.fullmatch(value) and int(value) <= 255 for value in values.values()):
        raise KdsPathError("SPL values are whole numbers 0..255")
    return TcbVersion(
        bootloader=int(values["blSPL"]),
        tee=int(values["teeSPL"]),
        snp=int(values["snpSPL"]),
        microcode=int(values["ucodeSPL"]),
        fmc=int(values.get("fmcSPL", "0")),
    )
