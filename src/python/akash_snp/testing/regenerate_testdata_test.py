"""The checked-in emulated recordings are exactly what the generator produces."""

from __future__ import annotations

import shutil
from pathlib import Path

from akash_snp.testing.regenerate_testdata import main


def test_regeneration_is_byte_identical_to_the_checked_in_files(
    emulated_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "emulated"
    for key in emulated_dir.glob("pki/*/*-key.pem"):
        target = out / key.relative_to(emulated_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(key, target)
    assert main([str(out)]) == 0
    produced = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    checked_in = sorted(p.relative_to(emulated_dir) for p in emulated_dir.rglob("*") if p.is_file())
    assert produced == checked_in
    for relative in produced:
        assert (out / relative).read_bytes() == (emulated_dir / relative).read_bytes(), relative


def test_usage_error() -> None:
    assert main([]) == 2
