"""Real sidecar answers for the tests: the sidecar's own Flask app with the emulated provider
and the real verifier (no process, no port), and a fake API server in front of them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from werkzeug.test import Client

from akash_snp.attest.constants import Product
from akash_snp.attestation.attestor import Attestor
from akash_snp.attestation.loop import AttestationLoop
from akash_snp.attestation.metrics import AttestationMetrics
from akash_snp.attestation.state import LastResult
from akash_snp.attestation.verification import LibraryVerifier
from akash_snp.emulation.pki import EmulatedAmd
from akash_snp.guest.emulated import EmulatedProvider
from akash_snp.guest.guard import GuardedProvider, TokenBucket
from akash_snp.guest.select import UnavailableProvider
from akash_snp.guest.source import LocalSource
from akash_snp.sidecar.app import create_app
from akash_snp.sidecar.local import LocalBackend
from akash_snp.status.fake_apiserver import (
    FakeApiServer,
    Reply,
    Sidecar,
    SidecarFactory,
    write_kubeconfig,
)
from akash_snp.testing.fixtures import (  # noqa: F401 (pytest finds fixtures by name)
    emulated_dir,
    emulated_genoa_pki,
    emulated_pkis,
)


@pytest.fixture(scope="session")
def make_sidecar(emulated_genoa_pki: EmulatedAmd) -> SidecarFactory:  # noqa: F811
    """``make_sidecar(kind)``: a sidecar answering /verify as the real one does, for kind
    ``verified`` (emulated root trusted), ``failed`` (emulated root not trusted: ark_trusted),
    ``unavailable`` (no guest interface) or ``pending`` (no attestation yet)."""
    ark = emulated_genoa_pki.ark_certificate()

    def make(kind: str) -> Sidecar:
        provider: object = (
            UnavailableProvider("no SEV-SNP guest interface: /dev/sev-guest is missing")
            if kind == "unavailable"
            else EmulatedProvider(emulated_genoa_pki)
        )
        roots = [ark] if kind == "verified" else []
        guarded = GuardedProvider(provider, TokenBucket(1000, 1000))  # type: ignore[arg-type]
        metrics = AttestationMetrics()
        attestor = Attestor(
            LocalSource(guarded), LibraryVerifier(None, extra_roots=roots), metrics,
            lambda: datetime.now(UTC),
        )
        last = LastResult()
        if kind != "pending":
            AttestationLoop(attestor, last, interval=300).run_once()
        app = Client(create_app(LocalBackend(attestor, last), metrics))
        lock = threading.Lock()

        def answer(nonce: str | None) -> Reply:
            with lock:
                query = {"nonce": nonce} if nonce is not None else {}
                response = app.get("/verify", query_string=query)
                return Reply(response.status_code, response.get_data())

        return answer

    return make


@pytest.fixture()
def serve(tmp_path: Path) -> Iterator[Callable[[FakeApiServer], Path]]:
    """``serve(fake)`` starts ``fake`` and returns a kubeconfig pointing at it."""
    running: list[Generator[str, None, None]] = []

    def start(fake: FakeApiServer) -> Path:
        server = fake.serve()
        running.append(server)
        return write_kubeconfig(tmp_path / f"kubeconfig-{len(running)}", next(server))

    yield start
    for server in running:
        server.close()


@pytest.fixture(scope="session")
def genoa_ark(emulated_dir: Path) -> Path:  # noqa: F811
    """The emulated Genoa root, for --trust-ark."""
    return emulated_dir / "pki" / Product.GENOA.value / "ark.pem"
