"""TCB layouts and product detection from CPUID."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from akash_snp.attest.constants import Product, TcbLayout, parse_product, product_from_cpuid
from akash_snp.attest.errors import TcbError, UnknownProductError
from akash_snp.attest.tcb import TcbVersion, decode_tcb, encode_tcb, layout_for

u8 = st.integers(0, 255)
# Four or five independent byte components per layout: more than the profile's 100 examples.
ROUND_TRIP = settings(max_examples=150)


@ROUND_TRIP
@given(u8, u8, u8, u8, u8)
def test_turin_round_trip(fmc: int, bl: int, tee: int, snp: int, ucode: int) -> None:
    tcb = TcbVersion(bootloader=bl, tee=tee, snp=snp, microcode=ucode, fmc=fmc)
    raw = encode_tcb(tcb, TcbLayout.TURIN)
    assert raw == bytes([fmc, bl, tee, snp, 0, 0, 0, ucode])
    assert decode_tcb(raw, TcbLayout.TURIN) == tcb


@ROUND_TRIP
@given(u8, u8, u8, u8)
def test_milan_genoa_round_trip(bl: int, tee: int, snp: int, ucode: int) -> None:
    tcb = TcbVersion(bootloader=bl, tee=tee, snp=snp, microcode=ucode)
    raw = encode_tcb(tcb, TcbLayout.MILAN_GENOA)
    assert raw == bytes([bl, tee, 0, 0, 0, 0, snp, ucode])
    assert decode_tcb(raw, TcbLayout.MILAN_GENOA) == tcb


def test_real_milan_value_decodes() -> None:
    tcb = decode_tcb(bytes.fromhex("0300000000000873"), layout_for(Product.MILAN))
    assert tcb == TcbVersion(bootloader=3, tee=0, snp=8, microcode=0x73)
    assert tcb.describe() == "bl=3 tee=0 snp=8 ucode=115"


def test_layout_errors() -> None:
    with pytest.raises(TcbError, match="reserved bytes 2-5"):
        decode_tcb(bytes.fromhex("0300000100000873"), TcbLayout.MILAN_GENOA)
    with pytest.raises(TcbError, match="reserved bytes 4-6"):
        decode_tcb(bytes.fromhex("0103000801000073"), TcbLayout.TURIN)
    with pytest.raises(TcbError, match="fmc=1 cannot be encoded"):
        encode_tcb(TcbVersion(1, 0, 0, 0, fmc=1), TcbLayout.MILAN_GENOA)
    with pytest.raises(TcbError, match="must be 8 bytes"):
        decode_tcb(b"\0" * 7, TcbLayout.TURIN)
    with pytest.raises(TcbError, match="outside 0..255"):
        TcbVersion(bootloader=256, tee=0, snp=0, microcode=0)


def test_at_least_is_component_wise() -> None:
    base = TcbVersion(bootloader=3, tee=0, snp=8, microcode=115)
    assert base.at_least(base)
    assert not base.at_least(TcbVersion(bootloader=2, tee=1, snp=0, microcode=0))


@pytest.mark.parametrize(
    ("family", "model", "product"),
    [
        (0x19, 0x01, Product.MILAN),
        (0x19, 0x0F, Product.MILAN),
        (0x19, 0x11, Product.GENOA),
        (0x19, 0xA0, Product.GENOA),  # Bergamo/Siena (Zen4c) use the Genoa KDS product
        (0x19, 0xAF, Product.GENOA),
        (0x1A, 0x00, Product.TURIN),
        (0x1A, 0x11, Product.TURIN),
    ],
)
def test_product_from_cpuid(family: int, model: int, product: Product) -> None:
    assert product_from_cpuid(family, model) is product


@pytest.mark.parametrize(("family", "model"), [(0x19, 0x20), (0x1A, 0x12), (0x17, 0x01)])
def test_unknown_cpuid_is_an_error(family: int, model: int) -> None:
    with pytest.raises(UnknownProductError, match=f"family 0x{family:02x} model 0x{model:02x}"):
        product_from_cpuid(family, model)


def test_parse_product_names() -> None:
    assert parse_product("Milan-B0") is Product.MILAN
    assert parse_product("genoa") is Product.GENOA
    with pytest.raises(UnknownProductError):
        parse_product("Naples")
