"""Pytest fixtures over the emulated PKI, shared by the attest, testing and cli test suites.

The PKI is loaded from the repository's ``testdata/emulated/pki`` (RSA-4096 generation takes
seconds), once per test session. Import these names into a ``conftest.py`` to use them.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from akash_snp.attest.constants import Product
from akash_snp.emulation.pki import EmulatedAmd
from akash_snp.testing.fake_kds import FakeKds, running_fake_kds


@pytest.fixture(scope="session")
def emulated_dir(repo_testdata_dir: Path) -> Path:
    """``testdata/emulated``: the emulated recordings and PKIs."""
    return repo_testdata_dir / "emulated"


@pytest.fixture(scope="session")
def emulated_pkis(emulated_dir: Path) -> dict[Product, EmulatedAmd]:
    """One emulated AMD PKI per product, loaded from test data."""
    return {p: EmulatedAmd.load(emulated_dir / "pki" / p.value, p) for p in Product}


@pytest.fixture(scope="session")
def emulated_genoa_pki(emulated_pkis: dict[Product, EmulatedAmd]) -> EmulatedAmd:
    return emulated_pkis[Product.GENOA]


@pytest.fixture(scope="session")
def emulated_pki_dir(emulated_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the recorded emulated Genoa PKI, for a service's ``--emulated-pki-dir``
    (generating RSA-4096 keys anew would take seconds)."""
    directory = tmp_path_factory.mktemp("pki") / "Genoa"
    shutil.copytree(emulated_dir / "pki" / "Genoa", directory)
    return directory


@pytest.fixture(scope="session")
def emulated_roots(emulated_pkis: dict[Product, EmulatedAmd]) -> list[x509.Certificate]:
    """The emulated ARKs, to pass as explicit extra roots."""
    return [pki.ark_certificate() for pki in emulated_pkis.values()]


@pytest.fixture()
def fake_kds(emulated_pkis: dict[Product, EmulatedAmd]) -> Iterator[FakeKds]:
    """A fresh fake KDS HTTP server on 127.0.0.1 serving every emulated product."""
    with running_fake_kds(emulated_pkis) as server:
        yield server
