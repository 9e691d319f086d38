"""AMD's public intermediates (ASK, ASVK) and roots shipped with the library, so evidence that
lacks them still verifies offline: AWS puts only the VLEK in the certificate table, and
``snp-verify report --offline --report aws.bin --certs certtable.bin`` must not need KDS.

The bundle is a directory (``amd_bundle/`` beside this module) of KDS ``cert_chain`` files and a
``manifest.json`` pinning every certificate by the SHA-256 of its DER. Loading re-checks what
trust rests on: each ARK equals AMD's pin (``constants.AMD_ARK_SHA256``) and signed its
intermediate. A bundled intermediate is used for a report only when it signed the report's
endorsement key, so it can never displace the right issuer (an emulated chain, say).
``refresh_bundle.py`` rewrites the directory from KDS.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from akash_snp.attest import chain
from akash_snp.attest.certs import AmdCertificate, CertRole, load_certificates
from akash_snp.attest.constants import Product
from akash_snp.attest.errors import ChainError
from akash_snp.attest.kds import KeyKind

if TYPE_CHECKING:  # for annotations only; the class moved in 3.11 (the CLI supports 3.10)
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable

MANIFEST = "manifest.json"
KINDS: tuple[KeyKind, ...] = ("vcek", "vlek")
_ROLE = {"vcek": CertRole.ASK, "vlek": CertRole.ASVK}


def chain_key(product: Product, kind: KeyKind) -> str:
    """The manifest's key for one chain, e.g. ``Milan/vlek``."""
    return f"{product.value}/{kind}"


def chain_file(product: Product, kind: KeyKind) -> str:
    """The file name of one chain, e.g. ``Milan-vlek-chain.pem``."""
    return f"{product.value}-{kind}-chain.pem"


class BundledChain(NamedTuple):
    """One bundled chain: the intermediate (ASK/ASVK) and the ARK that signed it."""

    intermediate: AmdCertificate
    ark: AmdCertificate


def check_chain(pem: bytes, product: Product, kind: KeyKind) -> BundledChain:
    """Parse a KDS chain (intermediate, then ARK) and check that it can be trusted: the ARK is
    AMD's pinned root for ``product`` and signed the intermediate. Raises ``ChainError``."""
    certs = load_certificates(pem)
    where = chain_key(product, kind)
    roles = [(c.role, c.product) for c in certs]
    if roles != [(_ROLE[kind], product), (CertRole.ARK, product)]:
        raise ChainError(f"{where}: expected {_ROLE[kind].value} then ARK of {product.value}")
    intermediate, ark = certs
    problem = chain.root_problem(ark, product, frozenset()) or chain.verify_link(intermediate, ark)
    if problem is not None:
        raise ChainError(f"{where}: {problem}")
    return BundledChain(intermediate, ark)


class AmdBundle:
    """The chains of one bundle directory, checked when loaded."""

    def __init__(self, chains: dict[tuple[Product, KeyKind], BundledChain]) -> None:
        self._chains = dict(chains)

    @classmethod
    def load(cls, directory: Traversable | Path) -> AmdBundle:
        """Load and check every chain the manifest lists; raise ``ChainError`` on any mismatch."""
        manifest: dict[str, Any] = json.loads((directory / MANIFEST).read_text())
        chains: dict[tuple[Product, KeyKind], BundledChain] = {}
        for product in Product:
            for kind in KINDS:
                entry = manifest["chains"].get(chain_key(product, kind))
                if entry is None:
                    continue
                pem = (directory / entry["file"]).read_bytes()
                loaded = check_chain(pem, product, kind)
                digests = [loaded.intermediate.sha256.hex(), loaded.ark.sha256.hex()]
                if digests != entry["sha256"]:
                    raise ChainError(
                        f"{entry['file']}: SHA-256 {digests} differ from the manifest's pins"
                    )
                chains[(product, kind)] = loaded
        return cls(chains)

    def __len__(self) -> int:
        return len(self._chains)

    def chains(self) -> dict[tuple[Product, KeyKind], BundledChain]:
        return dict(self._chains)

    def chain(self, product: Product, kind: KeyKind) -> BundledChain | None:
        return self._chains.get((product, kind))


def _packaged_dir() -> Traversable | Path:
    """``amd_bundle/`` inside the package: a plain directory when the package is installed as
    files (wheel, venv-mode PEX), else an ``importlib.resources`` resource (zip imports).
    The plain path spares every ``snp-verify`` start-up importlib.resources' readers, tempfile and
    zipfile (~10 ms)."""
    beside = Path(__file__).with_name("amd_bundle")
    if beside.is_dir():
        return beside
    from importlib.resources import files

    return files("akash_snp.attest") / "amd_bundle"


@functools.cache
def packaged_bundle() -> AmdBundle:
    """The bundle shipped inside the package (loaded and checked once)."""
    return AmdBundle.load(_packaged_dir())


def manifest_for(chains: dict[tuple[Product, KeyKind], BundledChain], source: str) -> str:
    """The manifest text describing ``chains`` (written by ``refresh_bundle``)."""
    about = json.loads((_packaged_dir() / MANIFEST).read_text())["about"]
    body = {
        "about": about,
        "refreshed_from": source,
        "chains": {
            chain_key(product, kind): {
                "file": chain_file(product, kind),
                "sha256": [got.intermediate.sha256.hex(), got.ark.sha256.hex()],
            }
            for (product, kind), got in sorted(chains.items(), key=lambda item: chain_key(*item[0]))
        },
    }
    return json.dumps(body, indent=2) + "\n"
