"""The attestation sidecar: a small HTTP service in every tenant pod that obtains SEV-SNP reports
from the guest firmware, verifies them with the shared library, and serves them at ``/verify``.

It must never take the tenant's pod down: every failure becomes a status, not an exit.
"""
