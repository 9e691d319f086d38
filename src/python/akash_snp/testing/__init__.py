"""Emulated AMD for tests and demos: PKI, SNP firmware signer, fake KDS. Never trusted by default.

- ``pki.EmulatedAmd.load_or_create(directory, product="Genoa")``: one product's ARK/ASK/ASVK
  (``directory/ark.pem`` is the root); ``.attest(report_data, vmpl=, version=, signing_key=,
  tcb=, mask_chip_id=, ...) -> SignedReport(report, cert_table, endorsement_der)``;
  ``.vcek_der()``, ``.vlek_der()``, ``.crl_der()``, ``.chain_pem(kind)``, ``.ark_certificate()``
  (pass it as ``extra_roots`` to accept emulated reports).
- ``firmware``: report building and signing for any version/product/signing key.
- ``fake_kds.running_fake_kds(pkis)``: a KDS-shaped HTTP server on 127.0.0.1 that can answer 429,
  500 or slowly, and logs requests.
- ``fixtures``: pytest fixtures over ``testdata/emulated``; ``regenerate_testdata``: rebuilds it.
"""
