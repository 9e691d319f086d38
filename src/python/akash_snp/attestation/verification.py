"""The adapter between the attesting services and the verification library: verify with
``verify_attestation`` (the host's certificate table first, KDS with its cache second) and keep
what /verify shows, taken from the verdict's own evidence. The only module here that imports
``attest.verify``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from cryptography import x509

from akash_snp.attest.constants import KDS_BASE_URL
from akash_snp.attest.kds import KdsClient, KdsSettings
from akash_snp.attest.policy import Policy
from akash_snp.attest.trust import InputFileError, load_policy_file, load_trusted_roots
from akash_snp.attest.verify import verify_attestation
from akash_snp.attestation.outcome import Outcome
from akash_snp.attestation.settings import AttestationConfig


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

    def verify(
        self, report: bytes, cert_table: bytes, at: datetime, nonce: bytes | None = None
    ) -> Outcome:
        """``nonce``: the report was requested for this verifier nonce, which the policy then
        requires REPORT_DATA to commit to (the same check ``snp-verify url`` makes)."""
        policy = self._policy if nonce is None else self._policy._replace(nonce=nonce)
        verdict = verify_attestation(
            report,
            certificates=[cert_table] if any(cert_table) else [],
            policy=policy,
            at=at,
            kds=self._kds,
            extra_roots=self._extra_roots,
        )
        evidence = verdict.evidence
        return Outcome(
            genuine=verdict.genuine,
            output=verdict.summary(),
            checks=[check.as_dict() for check in verdict.checks],
            product=verdict.product,
            signing_key=verdict.signing_key,
            report_fields=verdict.report.as_dict() if verdict.report else None,
            chain_pem=evidence.chain_pem() if evidence else b"",
            endorsement_der=evidence.endorsement_key.certificate.der if evidence else None,
            evidence=evidence.as_dict() if evidence else None,
        )


def build_verifier(
    config: AttestationConfig, on_fetch: Callable[[str], None] | None = None
) -> tuple[KdsClient, LibraryVerifier]:
    """The KDS client (with its cache directory) and the verifier ``config`` describes.

    Raises ``InputFileError`` (an ``AttestError``) naming the flag's file when the policy, a
    trusted root or the cache directory cannot be used."""
    if config.kds_cache_dir is not None:
        try:
            config.kds_cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise InputFileError(f"KDS cache directory {config.kds_cache_dir}: {error}") from error
    client = KdsClient(
        KdsSettings(base_url=config.kds_url or KDS_BASE_URL, cache_dir=config.kds_cache_dir),
        on_fetch=on_fetch,
    )
    policy = load_policy_file(config.policy)
    return client, LibraryVerifier(client, policy, load_trusted_roots(config.trust_ark))
