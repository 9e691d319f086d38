"""Refresh the library's bundle of AMD intermediates (``amd_bundle/``) from KDS.

    ./pants run src/python/akash_snp/attest/refresh_bundle.py -- \\
        --out src/python/akash_snp/attest/amd_bundle [--kds-url https://kdsintf.amd.com]

Fetches ``/{vcek,vlek}/v1/<Product>/cert_chain`` for Milan, Genoa and Turin, keeps a chain only
when its ARK equals AMD's pin and signed the intermediate (``bundle.check_chain``), writes the
PEM files and a manifest pinning each certificate by SHA-256, and prints what changed. Review the
diff like any change to trust material before committing it. Exit 0: every chain written;
1: a chain failed its checks (nothing written); 2: KDS unreachable or bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding

from akash_snp.attest.bundle import (
    KINDS,
    MANIFEST,
    AmdBundle,
    BundledChain,
    chain_file,
    check_chain,
    manifest_for,
)
from akash_snp.attest.constants import KDS_BASE_URL, Product
from akash_snp.attest.errors import ChainError, KdsError
from akash_snp.attest.kds import KdsClient, KdsSettings, KeyKind

_PEM = Encoding.PEM


def fetch_chains(kds_url: str) -> dict[tuple[Product, KeyKind], BundledChain]:
    """Every product's VCEK and VLEK chain from KDS, checked; raises ``KdsError``/``ChainError``."""
    client = KdsClient(KdsSettings(base_url=kds_url, deadline=120.0))
    return {
        (product, kind): check_chain(client.cert_chain(product, kind).body, product, kind)
        for product in Product
        for kind in KINDS
    }


def write_bundle(
    directory: Path, chains: dict[tuple[Product, KeyKind], BundledChain], source: str
) -> None:
    """Replace the bundle in ``directory`` with ``chains``; the result must load cleanly."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*-chain.pem"):
        stale.unlink()
    for (product, kind), got in chains.items():
        pem = got.intermediate.cert.public_bytes(_PEM) + got.ark.cert.public_bytes(_PEM)
        (directory / chain_file(product, kind)).write_bytes(pem)
    (directory / MANIFEST).write_text(manifest_for(chains, source))
    AmdBundle.load(directory)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="refresh_bundle", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="the amd_bundle directory")
    parser.add_argument("--kds-url", default=KDS_BASE_URL, help="KDS base URL (default AMD's)")
    args = parser.parse_args(argv)
    try:
        chains = fetch_chains(args.kds_url)
    except ChainError as error:
        print(f"refresh_bundle: refusing a chain: {error}", file=sys.stderr)
        return 1
    except KdsError as error:
        print(f"refresh_bundle: {error}", file=sys.stderr)
        return 2
    write_bundle(args.out, chains, args.kds_url)
    for (product, kind), got in sorted(chains.items(), key=lambda item: chain_file(*item[0])):
        print(f"{chain_file(product, kind)}: {got.intermediate.subject_cn} "
              f"sha256 {got.intermediate.sha256.hex()}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
