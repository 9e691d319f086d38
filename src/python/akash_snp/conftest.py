"""Fixtures shared by every test suite: where the real AMD recordings and the project's own
emulated recordings live.

The real recordings sit in ``../shared/testdata/snp-real`` beside the repository and are never
copied in. Pants runs tests in a sandbox, so it passes the location in ``AKASH_SNP_SHARED_DIR``
(see ``pants.toml``); a plain ``pytest`` run finds it by walking up from this file. When the folder
is missing the tests fail under CI and are skipped elsewhere.

It also activates the Hypothesis profile (``ci`` when ``CI`` is set, else ``dev``) for every suite.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from akash_snp.testing.hypothesis_profiles import load_profile

load_profile()


def _find_upwards(relative: str) -> Path | None:
    for parent in Path(__file__).resolve().parents:
        candidate = parent / relative
        if candidate.is_dir():
            return candidate
    return None


@pytest.fixture(scope="session")
def snp_real_dir() -> Path:
    """The folder of real SEV-SNP recordings (``snp-real``), or fail/skip when it is absent."""
    configured = os.environ.get("AKASH_SNP_SHARED_DIR")
    shared = Path(configured) if configured else _find_upwards("../shared")
    folder = shared / "testdata" / "snp-real" if shared else None
    if folder is None or not (folder / "manifest.json").is_file():
        message = f"real SNP recordings not found (looked for {folder}/manifest.json)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return folder


@pytest.fixture(scope="session")
def snp_real_manifest(snp_real_dir: Path) -> dict[str, Any]:
    """The parsed ``manifest.json`` of the real recordings."""
    manifest: dict[str, Any] = json.loads((snp_real_dir / "manifest.json").read_text())
    return manifest


@pytest.fixture(scope="session")
def repo_testdata_dir() -> Path:
    """The project's own ``testdata/`` (emulated recordings), present in the Pants sandbox too."""
    folder = _find_upwards("testdata")
    if folder is None:
        pytest.fail("the repository's testdata/ folder is missing from the test sandbox")
    return folder
