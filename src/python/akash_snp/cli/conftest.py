"""Fixtures of the emulated AMD PKI (see akash_snp.testing.fixtures)."""

from akash_snp.testing.fixtures import (  # noqa: F401 (pytest finds fixtures by name)
    emulated_dir,
    emulated_genoa_pki,
    emulated_pki_dir,
    emulated_pkis,
    emulated_roots,
    fake_kds,
)
