"""SEV-SNP attestation verification: the shared library behind the sidecar and ``snp-verify``.

Entry point (plain data in, plain data out; no Flask/kubernetes, no hidden I/O except the optional
KDS client)::

    from akash_snp.attest.verify import verify_attestation
    verdict = verify_attestation(
        report_bytes,                 # the raw 1184-byte report, exactly as received
        certificates=[blob, ...],     # PEM/DER certificates, PEM bundles, ext-report cert tables
        crls=[crl_der, ...],          # optional CRLs (DER or PEM); checked when issued by the ARK
        policy=Policy(),              # acceptability (policy.py); safe defaults
        at=datetime.now(timezone.utc),  # verification time (timezone-aware)
        kds=KdsClient(...) or None,   # fetches missing VCEK/ASK/ARK/CRL; None = use inputs only
        extra_roots=[x509_cert],      # extra trusted ARKs (emulated PKI only); AMD's are pinned
        product=None,                 # for v2 reports without a certificate saying the product
    )
    verdict.genuine / verdict.status ("genuine" | "rejected") / verdict.first_failure
    verdict.checks: tuple[Check(name, ok, detail)], verdict.as_dict() / verdict.to_json()

A bad report gives a rejected verdict (check ``report_format``); unusable input or environment
(malformed certificates, certificates that are missing and cannot be fetched, KDS unreachable or
offline) raises a subclass of ``akash_snp.attest.errors.AttestError``.

Modules, one question each: ``report`` (bytes <-> fields), ``tcb`` (TCB layouts), ``constants``
(spec values and AMD root pins), ``certs`` (roles, AMD extensions, loading), ``certtable``
(extended-report table), ``chain`` (link signatures, validity, root pinning), ``crl``,
``kds`` (KDS client and cache), ``policy`` (acceptability), ``verdict`` (result), ``verify``.
"""
