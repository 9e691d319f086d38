"""The adapter between the sidecar and the verification library: gather the chain (the host's
certificate table first, KDS with its cache second), verify with ``verify_attestation``, and keep
the certificates that /verify shows. The only sidecar module that imports ``attest``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from akash_snp.attest.certs import AmdCertificate, CertRole, load_all, load_certificates
from akash_snp.attest.constants import CHIP_ID_SIZE, TCB_LAYOUT, Product
from akash_snp.attest.errors import AttestError
from akash_snp.attest.kds import KdsClient, KeyKind
from akash_snp.attest.policy import Policy
from akash_snp.attest.report import Report
from akash_snp.attest.tcb import decode_tcb
from akash_snp.attest.verdict import Verdict
from akash_snp.attest.verify import verify_attestation
from akash_snp.sidecar.outcome import Outcome

_INTERMEDIATE = {CertRole.VCEK: CertRole.ASK, CertRole.VLEK: CertRole.ASVK}


class LibraryVerifier:
    """``Verifier`` backed by ``akash_snp.attest``."""

    def __init__(
        self,
        kds: KdsClient | None,
        policy: Policy | None = None,
        extra_roots: Sequence[x509.Certificate] = (),
    ) -> None:
        self._kds = kds
        self._policy = policy or Policy()
        self._extra_roots = tuple(extra_roots)

    def verify(self, report: bytes, cert_table: bytes, at: datetime) -> Outcome:
        blobs = [cert_table] if any(cert_table) else []
        verdict = verify_attestation(
            report,
            certificates=blobs,
            policy=self._policy,
            at=at,
            kds=self._kds,
            extra_roots=self._extra_roots,
        )
        endorsement, chain = self._evidence(verdict, blobs)
        return Outcome(
            genuine=verdict.genuine,
            output=verdict.summary(),
            checks=[check.as_dict() for check in verdict.checks],
            product=verdict.product,
            signing_key=verdict.signing_key,
            report_fields=verdict.report.as_dict() if verdict.report else None,
            chain_pem=b"".join(cert.cert.public_bytes(Encoding.PEM) for cert in chain),
            endorsement_der=endorsement.der if endorsement else None,
        )

    def _evidence(
        self, verdict: Verdict, blobs: list[bytes]
    ) -> tuple[AmdCertificate | None, list[AmdCertificate]]:
        """The endorsement key and [ASK/ASVK, ARK] the verdict rests on, for display. KDS answers
        come from the client's cache: verification has just fetched them."""
        if verdict.report is None or verdict.product is None:
            return None, []
        try:
            role = CertRole(verdict.signing_key)
            product = Product(verdict.product)
            supplied = load_all(blobs)
            endorsement = self._endorsement(verdict.report, product, role, supplied)
            chain = self._chain(product, _INTERMEDIATE[role], supplied)
        except (AttestError, ValueError, KeyError):
            return None, []
        return endorsement, chain

    def _endorsement(
        self, report: Report, product: Product, role: CertRole, supplied: list[AmdCertificate]
    ) -> AmdCertificate | None:
        candidates = [c for c in supplied if c.role is role and c.product is product]
        if not candidates and role is CertRole.VCEK and self._kds and any(report.chip_id):
            tcb = decode_tcb(report.reported_tcb, TCB_LAYOUT[product])
            candidates = list(load_certificates(self._kds.vcek(product, report.chip_id, tcb)))
        size = CHIP_ID_SIZE[product]
        for cert in candidates:
            hwid = cert.extensions.hwid if cert.extensions else None
            if hwid is None or hwid[:size] == report.chip_id[:size]:
                return cert
        return candidates[0] if candidates else None

    def _chain(
        self, product: Product, role: CertRole, supplied: list[AmdCertificate]
    ) -> list[AmdCertificate]:
        def find(pool: Sequence[AmdCertificate], wanted: CertRole) -> AmdCertificate | None:
            return next((c for c in pool if c.role is wanted and c.product is product), None)

        intermediate, ark = find(supplied, role), find(supplied, CertRole.ARK)
        if (intermediate is None or ark is None) and self._kds is not None:
            kind: KeyKind = "vcek" if role is CertRole.ASK else "vlek"
            fetched = load_certificates(self._kds.cert_chain(product, kind))
            intermediate = intermediate or find(fetched, role)
            ark = ark or find(fetched, CertRole.ARK)
        return [cert for cert in (intermediate, ark) if cert is not None]
