"""Authenticity of a report, then acceptability under a policy: the library's entry point.

``verify_attestation`` takes plain data (report bytes, certificate blobs, CRL blobs, a policy, the
verification time) and returns a ``Verdict`` listing every check. A tampered or mis-endorsed report
gives a *rejected* verdict; only unusable input (unparseable certificates, missing certificates
that cannot be fetched) raises an ``AttestError``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from akash_snp.attest import certs as certs_module
from akash_snp.attest import certtable, chain, crl
from akash_snp.attest.certs import AmdCertificate, CertRole
from akash_snp.attest.constants import (
    CHIP_ID_SIZE,
    REPORT_SIZE,
    SUPPORTED_REPORT_VERSIONS,
    TCB_LAYOUT,
    Product,
    TcbLayout,
    parse_product,
    product_from_cpuid,
)
from akash_snp.attest.errors import (
    AttestError,
    ChainError,
    ReportFormatError,
    UnknownProductError,
)
from akash_snp.attest.kds import KdsAnswer, KdsClient, KeyKind
from akash_snp.attest.policy import Policy, evaluate_policy
from akash_snp.attest.report import (
    SIGNING_KEY_VCEK,
    SIGNING_KEY_VLEK,
    Report,
    parse_report,
    signed_region,
)
from akash_snp.attest.tcb import decode_tcb, encode_tcb
from akash_snp.attest.verdict import (
    BUNDLED,
    CERT_TABLE,
    SUPPLIED,
    Check,
    Evidence,
    Sourced,
    Verdict,
)

if TYPE_CHECKING:  # loaded only when evidence lacks a certificate (see ``_bundled_chain``)
    from akash_snp.attest.bundle import AmdBundle, BundledChain

_ECDSA_SHA384 = ec.ECDSA(hashes.SHA384())
_DEFAULT_POLICY = Policy()
_INTERMEDIATE = {CertRole.VCEK: CertRole.ASK, CertRole.VLEK: CertRole.ASVK}


def verify_attestation(
    report_bytes: bytes,
    *,
    certificates: Sequence[bytes] = (),
    crls: Sequence[bytes] = (),
    policy: Policy | None = None,
    at: datetime,
    kds: KdsClient | None = None,
    extra_roots: Sequence[x509.Certificate] = (),
    product: Product | None = None,
    bundle: AmdBundle | None = None,
) -> Verdict:
    """Verify a raw report end to end; see the package docstring for the contract."""
    if at.tzinfo is None:
        raise AttestError("the verification time must be timezone-aware (UTC)")
    policy = policy if policy is not None else _DEFAULT_POLICY
    supplied = _load_supplied(certificates)  # unusable certificates raise, even if ...
    revocation_lists = [crl.load_crl(blob) for blob in crls]  # ... the report is malformed
    try:
        report = parse_report(report_bytes)
    except ReportFormatError as error:
        return Verdict((Check("report_format", False, str(error)),), None, None, None)
    checks = [_FORMAT_OK[report.version]]
    product, product_check = _product(report, [s.certificate for s in supplied], product)
    checks.append(product_check)

    key_kind = report.signer_info.signing_key
    if key_kind not in (SIGNING_KEY_VCEK, SIGNING_KEY_VLEK):
        checks.append(
            Check(
                "signing_key_matches_certificate",
                False,
                f"SIGNING_KEY is {report.signer_info.signing_key_name}, "
                "neither VCEK (0) nor VLEK (1)",
            )
        )
        return Verdict(tuple(checks), product.value, report.signer_info.signing_key_name, report)
    wanted = CertRole.VCEK if key_kind == SIGNING_KEY_VCEK else CertRole.VLEK
    sourced_endorsement = _endorsement(report, product, wanted, supplied, kds)
    endorsement = sourced_endorsement.certificate
    checks.append(_key_kind_check(wanted, endorsement.role))
    checks.append(_product_name_check(endorsement))
    sourced_intermediate, sourced_ark = _chain(
        product, _INTERMEDIATE[endorsement.role], endorsement, supplied, bundle, kds
    )
    evidence = Evidence(sourced_endorsement, sourced_intermediate, sourced_ark)
    intermediate, ark = sourced_intermediate.certificate, sourced_ark.certificate
    checks += _chain_checks(endorsement, intermediate, ark, product, at, extra_roots)
    checks += _crl_checks(
        revocation_lists, intermediate, ark, product, endorsement.role, at, policy, kds
    )
    checks.append(_signature_check(report_bytes, report, endorsement))
    checks.append(_tcb_check(report, product, endorsement))
    checks.append(_chip_id_check(report, product, endorsement))
    checks += evaluate_policy(report, product, policy)
    return Verdict(tuple(checks), product.value, endorsement.role.value, report, evidence)


# Passing checks with few distinct details are built once (warm-path cost, benchmarks/verify).
_FORMAT_OK = {
    v: Check("report_format", True, f"version {v}, {REPORT_SIZE} bytes")
    for v in SUPPORTED_REPORT_VERSIONS
}


@functools.lru_cache(maxsize=16)
def _product_ok(product: Product, source: str) -> Check:
    return Check("product", True, f"{product.value} ({source})")


@functools.lru_cache(maxsize=16)
def _key_kind_check(wanted: CertRole, actual: CertRole) -> Check:
    return Check(
        "signing_key_matches_certificate",
        actual is wanted,
        f"report SIGNING_KEY={wanted.value}, certificate is {actual.value}",
    )


@functools.lru_cache(maxsize=16)
def _product_name_check(endorsement: AmdCertificate) -> Check:
    """The productName extension must name the product of the issuer (the ASK/ASVK): an edited
    extension is forged evidence, rejected here as well as by the broken signature."""
    name = "endorsement_product_name"
    ext = endorsement.extensions
    if ext is None:
        return Check(name, False, f"{endorsement.role.value} has no AMD extensions")
    try:
        named = parse_product(ext.product_name)
    except AttestError as error:
        return Check(name, False, f"{endorsement.role.value} productName: {error}")
    if named is not endorsement.product:
        return Check(
            name,
            False,
            f"{endorsement.role.value} productName {ext.product_name!r} contradicts its issuer "
            f"{endorsement.product.value}",
        )
    return Check(name, True, f"productName {ext.product_name!r} matches its issuer")


def _load_supplied(blobs: Sequence[bytes]) -> list[Sourced]:
    """Every supplied certificate once, with its source: an extended report's certificate
    table or a caller's file."""
    supplied: list[Sourced] = []
    seen: set[bytes] = set()
    for blob in blobs:
        source = CERT_TABLE if certtable.looks_like_cert_table(blob) else SUPPLIED
        for cert in certs_module.load_certificates(blob):
            if cert.sha256 not in seen:
                seen.add(cert.sha256)
                supplied.append(Sourced(cert, source))
    return supplied


def clear_caches() -> None:
    """Forget parsed certificates and verified chains (benchmarks' cold runs, long-lived tests)."""
    certs_module.clear_cache()
    chain.clear_cache()
    _good_chains.clear()


def _product(
    report: Report, supplied: list[AmdCertificate], configured: Product | None
) -> tuple[Product, Check]:
    """Product from CPUID (v3+), else from the endorsement certificate or configuration.

    An unknown CPUID fails the ``product`` check (a rejected report) as long as the certificates
    or the configuration still say which chain to check; only when nothing does is it an error.
    """
    endorsement_products = {c.product for c in supplied if c.role in (CertRole.VCEK, CertRole.VLEK)}
    if report.cpuid is not None:
        try:
            from_cpuid = product_from_cpuid(report.cpuid.family, report.cpuid.model)
        except UnknownProductError as error:
            fallback, _ = _product_without_cpuid(endorsement_products, supplied, configured)
            return fallback, Check("product", False, str(error))
        others = endorsement_products | ({configured} if configured else set())
        extra = others - {from_cpuid}
        if extra:
            names = ", ".join(sorted(p.value for p in extra))
            # The chain is still checked, for the certified product: a report whose CPUID was
            # altered is forged evidence, rejected with every failing check named.
            certified = next(iter(endorsement_products), from_cpuid)
            chosen = certified if len(endorsement_products) == 1 else from_cpuid
            return chosen, Check(
                "product",
                False,
                f"CPUID says {from_cpuid.value} but certificates/config say {names}",
            )
        return from_cpuid, _product_ok(from_cpuid, "from CPUID")
    return _product_without_cpuid(endorsement_products, supplied, configured)


def _product_without_cpuid(
    endorsement_products: set[Product], supplied: list[AmdCertificate], configured: Product | None
) -> tuple[Product, Check]:
    if configured is not None:
        if endorsement_products - {configured}:
            names = ", ".join(sorted(p.value for p in endorsement_products))
            certified = next(iter(endorsement_products)) if len(endorsement_products) == 1 else None
            return certified or configured, Check(
                "product", False, f"configured {configured.value} but certificates say {names}"
            )
        return configured, _product_ok(configured, "configured")
    if len(endorsement_products) == 1:
        found = next(iter(endorsement_products))
        return found, _product_ok(found, "from the endorsement certificate")
    chain_products = {c.product for c in supplied}
    if len(chain_products) == 1:
        found = next(iter(chain_products))
        return found, _product_ok(found, "from the certificate chain")
    raise UnknownProductError(
        "the report names no known CPU (version 2 carries no CPUID): supply the endorsement "
        "certificate or the product"
    )


def _endorsement(
    report: Report,
    product: Product,
    wanted: CertRole,
    supplied: list[Sourced],
    kds: KdsClient | None,
) -> Sourced:
    """The VCEK/VLEK to check against; prefers one whose hwID and TCB match the report."""
    candidates = [
        s for s in supplied if s.certificate.role is wanted and s.certificate.product is product
    ]
    if not candidates and wanted is CertRole.VCEK and kds is not None and not report.chip_id_masked:
        tcb = decode_tcb(report.reported_tcb, TCB_LAYOUT[product])
        fetched = _load_answer(kds.vcek(product, report.chip_id, tcb))
        candidates = [c for c in fetched if c.certificate.role is wanted]
    if not candidates:
        other = [s for s in supplied if s.certificate.role in (CertRole.VCEK, CertRole.VLEK)]
        if other:
            return other[0]  # wrong kind: the signing-key check will reject the report
        how = (
            "the VLEK comes only with the extended report"
            if wanted is CertRole.VLEK
            else (
                "CHIP_ID is masked, so KDS cannot be asked"
                if report.chip_id_masked
                else "no KDS client was given (offline)"
            )
        )
        raise ChainError(f"no {wanted.value} certificate for {product.value} supplied; {how}")
    size = CHIP_ID_SIZE[product]
    for candidate in candidates:
        ext = candidate.certificate.extensions
        if ext is not None and (ext.hwid is None or ext.hwid[:size] == report.chip_id[:size]):
            return candidate
    return candidates[0]


def _load_answer(answer: KdsAnswer) -> list[Sourced]:
    return [Sourced(cert, answer.source) for cert in certs_module.load_certificates(answer.body)]


def _find(
    pool: Sequence[Sourced],
    role: CertRole,
    product: Product,
    signed: AmdCertificate | None,
) -> Sourced | None:
    """The certificate of ``role`` for ``product``; among several, the one that signed ``signed``.

    Choosing by signature means extra, unrelated certificates in the input never displace the
    right issuer (a wrong pick could only cause a rejection, never an acceptance).
    """
    candidates = [
        s for s in pool if s.certificate.role is role and s.certificate.product is product
    ]
    if len(candidates) > 1 and signed is not None:
        for candidate in candidates:
            if chain.verify_link(signed, candidate.certificate) is None:
                return candidate
    return candidates[0] if candidates else None


def _chain(
    product: Product,
    role: CertRole,
    endorsement: AmdCertificate,
    supplied: list[Sourced],
    bundle: AmdBundle | None,
    kds: KdsClient | None,
) -> tuple[Sourced, Sourced]:
    """The intermediate (ASK/ASVK) and ARK: from the inputs, else from the bundled AMD chain
    (only where it signed what it would endorse), else from KDS."""
    intermediate = _find(supplied, role, product, endorsement)
    ark = _find(supplied, CertRole.ARK, product, intermediate and intermediate.certificate)
    kind: KeyKind = "vcek" if role is CertRole.ASK else "vlek"
    incomplete = intermediate is None or ark is None
    bundled = _bundled_chain(bundle, product, kind) if incomplete else None
    if bundled is not None:
        if intermediate is None and chain.verify_link(endorsement, bundled.intermediate) is None:
            intermediate = Sourced(bundled.intermediate, BUNDLED)
        if (
            ark is None
            and intermediate is not None
            and chain.verify_link(intermediate.certificate, bundled.ark) is None
        ):
            ark = Sourced(bundled.ark, BUNDLED)
    if (intermediate is None or ark is None) and kds is not None:
        fetched = _load_answer(kds.cert_chain(product, kind))
        intermediate = intermediate or _find(fetched, role, product, endorsement)
        issuer = intermediate.certificate if intermediate else None
        ark = ark or _find(fetched, CertRole.ARK, product, issuer)
    if intermediate is None or ark is None:
        missing = " and ".join(
            name for name, cert in ((role.value, intermediate), ("ARK", ark)) if cert is None
        )
        raise ChainError(f"no {missing} certificate for {product.value} supplied or fetched")
    return intermediate, ark


def _bundled_chain(
    bundle: AmdBundle | None, product: Product, kind: KeyKind
) -> BundledChain | None:
    """The chain of ``bundle``, else of the packaged bundle, which is imported and loaded only
    here: evidence with its whole chain (the common case) never pays for reading it."""
    if bundle is None:
        from akash_snp.attest.bundle import packaged_bundle

        bundle = packaged_bundle()
    return bundle.chain(product, kind)


_ChainKey = tuple[bytes, bytes, bytes, Product, frozenset[bytes]]
_CHAIN_CACHE_LIMIT = 256
# Fully passing chain checks, with the time window in which every certificate is valid.
_good_chains: dict[_ChainKey, tuple[tuple[Check, ...], datetime, datetime]] = {}


def _chain_checks(
    endorsement: AmdCertificate,
    intermediate: AmdCertificate,
    ark: AmdCertificate,
    product: Product,
    at: datetime,
    extra_roots: Sequence[x509.Certificate],
) -> tuple[Check, ...]:
    """Root pin, link signatures and validity; a passing chain is reused while still valid."""
    extra = chain.root_fingerprints(extra_roots)
    key = (endorsement.sha256, intermediate.sha256, ark.sha256, product, extra)
    cached = _good_chains.get(key)
    if cached is not None and cached[1] <= at <= cached[2]:
        return cached[0]
    root_problem = chain.root_problem(ark, product, extra)
    self_signed = chain.verify_link(ark, ark)
    trusted = f"{ark.subject_cn} sha256 {ark.sha256.hex()} is trusted" + (
        "" if chain.is_amd_root(ark) else " (explicit extra root, not AMD)"
    )
    links = (
        (
            "intermediate_signed_by_ark",
            chain.verify_link(intermediate, ark),
            f"{intermediate.subject_cn} signed by {ark.subject_cn}",
        ),
        (
            "endorsement_key_signed_by_intermediate",
            chain.verify_link(endorsement, intermediate),
            f"{endorsement.role.value} signed by {intermediate.subject_cn}",
        ),
    )
    checks = [
        Check("ark_trusted", root_problem is None, root_problem or trusted),
        Check(
            "ark_self_signed", self_signed is None, self_signed or f"{ark.subject_cn} self-signed"
        ),
    ]
    checks += [Check(name, problem is None, problem or ok) for name, problem, ok in links]
    certs = (
        ("ark_validity", ark),
        ("intermediate_validity", intermediate),
        ("endorsement_key_validity", endorsement),
    )
    for name, cert in certs:
        problem = chain.validity_problem(cert, at)
        valid = (
            f"{cert.subject_cn} valid from {cert.not_before.isoformat()} "
            f"until {cert.not_after.isoformat()}"
        )
        checks.append(Check(name, problem is None, problem or valid))
    result = tuple(checks)
    if all(check.ok for check in result):
        if len(_good_chains) >= _CHAIN_CACHE_LIMIT:
            _good_chains.clear()
        window_start = max(cert.not_before for _, cert in certs)
        window_end = min(cert.not_after for _, cert in certs)
        _good_chains[key] = (result, window_start, window_end)
    return result


def _crl_checks(
    given: list[x509.CertificateRevocationList],
    intermediate: AmdCertificate,
    ark: AmdCertificate,
    product: Product,
    role: CertRole,
    at: datetime,
    policy: Policy,
    kds: KdsClient | None,
) -> list[Check]:
    loaded = list(given)
    if not loaded and policy.require_crl and kds is not None:
        loaded.append(
            crl.load_crl(
                kds.crl(product, "vcek" if role is CertRole.VCEK else "vlek", now=at).body
            )
        )
    relevant = [c for c in loaded if c.issuer == ark.cert.subject]
    if not relevant:
        if policy.require_crl:
            return [
                Check("crl_present", False, f"the policy requires a CRL issued by {ark.subject_cn}")
            ]
        return []
    checks: list[Check] = []
    for revocation_list in relevant:
        problem = crl.signature_problem(revocation_list, ark)
        checks.append(
            Check("crl_signature", problem is None, problem or f"CRL signed by {ark.subject_cn}")
        )
        stale = crl.freshness_problem(revocation_list, at)
        if stale is None:
            checks.append(Check("crl_fresh", True, "CRL is current"))
        elif policy.allow_stale_crl:
            checks.append(Check("crl_fresh", True, f"{stale} (stale CRLs allowed by policy)"))
        else:
            checks.append(Check("crl_fresh", False, stale))
        revoked = crl.revocation_problem(revocation_list, intermediate)
        checks.append(
            Check(
                "intermediate_not_revoked",
                revoked is None,
                revoked or f"{intermediate.subject_cn} is not revoked",
            )
        )
    return checks


def _signature_check(report_bytes: bytes, report: Report, endorsement: AmdCertificate) -> Check:
    key = endorsement.public_key
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return Check("report_signature", False, "endorsement key is not an EC key")
    signature = encode_dss_signature(report.signature.r, report.signature.s)
    try:
        key.verify(signature, signed_region(report_bytes), _ECDSA_SHA384)
    except InvalidSignature:
        return Check(
            "report_signature",
            False,
            f"ECDSA P-384 signature does not verify with {endorsement.describe()}",
        )
    return Check(
        "report_signature", True, f"ECDSA P-384 signature verifies with {endorsement.role.value}"
    )


_tcb_details: dict[tuple[bytes, TcbLayout], tuple[bytes, str]] = {}


def _tcb_check(report: Report, product: Product, endorsement: AmdCertificate) -> Check:
    name = "reported_tcb_matches_certificate"
    ext = endorsement.extensions
    if ext is None:
        return Check(name, False, "certificate has no TCB extensions")
    layout = TCB_LAYOUT[product]
    expected = _tcb_details.get((endorsement.sha256, layout))
    if expected is None:
        try:
            encoded = encode_tcb(ext.tcb, layout)
        except AttestError as error:
            return Check(name, False, f"{endorsement.role.value} SPLs: {error}")
        detail = f"REPORTED_TCB {ext.tcb.describe()} equals the {endorsement.role.value}'s SPLs"
        if len(_tcb_details) >= 256:
            _tcb_details.clear()
        expected = _tcb_details[(endorsement.sha256, layout)] = (encoded, detail)
    if report.reported_tcb == expected[0]:
        return Check(name, True, expected[1])
    try:
        reported = decode_tcb(report.reported_tcb, layout).describe()
    except AttestError as error:
        reported = f"{report.reported_tcb.hex()} ({error})"
    return Check(
        name,
        False,
        f"REPORTED_TCB {reported} but the {endorsement.role.value} has {ext.tcb.describe()}",
    )


def _chip_id_check(report: Report, product: Product, endorsement: AmdCertificate) -> Check:
    name = "chip_id_matches_hwid"
    if report.chip_id_masked:
        return Check(name, True, "skipped: CHIP_ID is masked (all zero)")
    ext = endorsement.extensions
    if ext is None or ext.hwid is None:
        if endorsement.role is CertRole.VLEK:
            return Check(name, True, "skipped: a VLEK carries no hwID")
        return Check(name, False, f"{endorsement.role.value} has no hwID extension")
    size = CHIP_ID_SIZE[product]
    ok = ext.hwid[:size] == report.chip_id[:size] and len(ext.hwid) >= size
    detail = (
        f"CHIP_ID equals the certificate hwID ({size} bytes)"
        if ok
        else f"CHIP_ID {report.chip_id[:size].hex()} != hwID {ext.hwid[:size].hex()}"
    )
    return Check(name, ok, detail)
