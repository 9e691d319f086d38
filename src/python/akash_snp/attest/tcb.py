"""TCB_VERSION values: the 8-byte security patch levels in reports and VCEK/VLEK extensions.

Two byte layouts exist (SEV-SNP ABI spec, TCB_VERSION structure) and the layout follows the CPU
family, never the report version. Pure encode/decode; comparison helpers for policy minimums.
"""

from __future__ import annotations

from typing import NamedTuple

from akash_snp.attest.constants import TCB_LAYOUT, Product, TcbLayout
from akash_snp.attest.errors import TcbError

TCB_SIZE = 8


class _Components(NamedTuple):
    bootloader: int
    tee: int
    snp: int
    microcode: int
    fmc: int = 0


class TcbVersion(_Components):
    """Security patch levels; ``fmc`` exists on Turin and later only (0 on Milan/Genoa).

    A NamedTuple rather than a frozen dataclass: creating a dataclass at import costs every
    ``snp-verify`` start-up about a millisecond. Components are checked when a value is made.
    """

    __slots__ = ()

    def __new__(
        cls, bootloader: int, tee: int, snp: int, microcode: int, fmc: int = 0
    ) -> TcbVersion:
        values = (bootloader, tee, snp, microcode, fmc)
        for name, value in zip(_Components._fields, values, strict=True):
            if not 0 <= value <= 0xFF:
                raise TcbError(f"TCB component {name}={value} is outside 0..255")
        return super().__new__(cls, *values)

    def at_least(self, minimum: TcbVersion) -> bool:
        """True when every component is >= the minimum's (TCB order is component-wise)."""
        return (
            self.bootloader >= minimum.bootloader
            and self.tee >= minimum.tee
            and self.snp >= minimum.snp
            and self.microcode >= minimum.microcode
            and self.fmc >= minimum.fmc
        )

    def describe(self) -> str:
        text = f"bl={self.bootloader} tee={self.tee} snp={self.snp} ucode={self.microcode}"
        return f"fmc={self.fmc} {text}" if self.fmc else text

    def as_dict(self) -> dict[str, int]:
        return {
            "fmc": self.fmc,
            "bootloader": self.bootloader,
            "tee": self.tee,
            "snp": self.snp,
            "microcode": self.microcode,
        }


def layout_for(product: Product) -> TcbLayout:
    """The TCB layout used by a product (chosen by CPU family)."""
    return TCB_LAYOUT[product]


def decode_tcb(raw: bytes, layout: TcbLayout) -> TcbVersion:
    """Decode 8 TCB bytes; reserved bytes must be zero."""
    if len(raw) != TCB_SIZE:
        raise TcbError(f"TCB_VERSION must be {TCB_SIZE} bytes, got {len(raw)}")
    if layout is TcbLayout.MILAN_GENOA:
        if any(raw[2:6]):
            raise TcbError(f"TCB {raw.hex()}: reserved bytes 2-5 are not zero (Milan/Genoa layout)")
        return TcbVersion(bootloader=raw[0], tee=raw[1], snp=raw[6], microcode=raw[7])
    if any(raw[4:7]):
        raise TcbError(f"TCB {raw.hex()}: reserved bytes 4-6 are not zero (Turin layout)")
    return TcbVersion(fmc=raw[0], bootloader=raw[1], tee=raw[2], snp=raw[3], microcode=raw[7])


def encode_tcb(tcb: TcbVersion, layout: TcbLayout) -> bytes:
    """Encode a TCB value in the given layout; FMC must be 0 on Milan/Genoa."""
    if layout is TcbLayout.MILAN_GENOA:
        if tcb.fmc:
            raise TcbError(f"fmc={tcb.fmc} cannot be encoded in the Milan/Genoa TCB layout")
        return bytes([tcb.bootloader, tcb.tee, 0, 0, 0, 0, tcb.snp, tcb.microcode])
    return bytes([tcb.fmc, tcb.bootloader, tcb.tee, tcb.snp, 0, 0, 0, tcb.microcode])
