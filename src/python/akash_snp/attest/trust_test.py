"""The one loader of trusted roots and policy files (CLI, sidecar, node agent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from akash_snp.attest.tcb import TcbVersion
from akash_snp.attest.trust import (
    InputFileError,
    load_policy_file,
    load_trusted_roots,
    read_input,
)
from akash_snp.emulation.pki import EmulatedAmd


def test_input_is_read_with_a_cap(tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(b"x" * 11)
    assert read_input(tmp_path / "big", "thing", limit=11) == b"x" * 11
    with pytest.raises(InputFileError, match="larger than 10 bytes: not a thing"):
        read_input(tmp_path / "big", "thing", limit=10)
    with pytest.raises(InputFileError, match="cannot read thing"):
        read_input(tmp_path / "missing", "thing")
    with pytest.raises(InputFileError, match="larger than"):
        read_input(Path("/dev/zero"), "policy file")


def test_trusted_roots_must_be_arks(tmp_path: Path, emulated_genoa_pki: EmulatedAmd) -> None:
    (tmp_path / "ark.pem").write_bytes(emulated_genoa_pki.ark_pem())
    (tmp_path / "chain.pem").write_bytes(emulated_genoa_pki.chain_pem())
    roots = load_trusted_roots([tmp_path / "ark.pem"])
    assert roots == (emulated_genoa_pki.ark_certificate(),)
    # a chain file is accepted for the ARK it holds
    assert load_trusted_roots([tmp_path / "chain.pem"]) == roots
    chip = emulated_genoa_pki.default_chip_id()
    (tmp_path / "vcek.der").write_bytes(emulated_genoa_pki.vcek_der(chip, TcbVersion(1, 0, 1, 1)))
    with pytest.raises(InputFileError, match="holds no ARK"):
        load_trusted_roots([tmp_path / "vcek.der"])
    (tmp_path / "junk.pem").write_bytes(b"junk")
    with pytest.raises(InputFileError, match="trusted root file .*junk.pem: input is neither"):
        load_trusted_roots([tmp_path / "junk.pem"])


def test_policy_file(tmp_path: Path) -> None:
    assert load_policy_file(None).allow_debug is False
    (tmp_path / "p.yaml").write_text("allow_debug: true\n")
    assert load_policy_file(tmp_path / "p.yaml").allow_debug is True
    (tmp_path / "bad.yaml").write_text("allow_debug: maybe\n")
    with pytest.raises(InputFileError, match="policy file .*bad.yaml: policy field allow_debug"):
        load_policy_file(tmp_path / "bad.yaml")
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InputFileError, match="nests too deeply"):
        load_policy_file(tmp_path / "deep.json")
