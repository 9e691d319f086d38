"""Fixtures of the emulated AMD PKI recorded in testdata (see akash_snp.testing.fixtures)."""

from akash_snp.testing.fixtures import (  # noqa: F401 (pytest finds fixtures by name)
    emulated_dir,
    emulated_pki_dir,
)
