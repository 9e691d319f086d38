"""The one exception hierarchy of the verification library.

Every failure the library can raise derives from ``AttestError`` so callers (CLI, sidecar) can map
"unusable input or environment" to one code path. A *rejected* report is not an exception: it is a
``Verdict`` whose checks say why.
"""

from __future__ import annotations


class AttestError(Exception):
    """Base class of every error raised by ``akash_snp.attest``."""


class ReportFormatError(AttestError):
    """The bytes are not a well-formed SEV-SNP attestation report."""


class TcbError(AttestError):
    """A TCB_VERSION value cannot be encoded or decoded for the given layout."""


class UnknownProductError(AttestError):
    """The product (Milan, Genoa, Turin) cannot be determined or is not supported."""


class CertificateError(AttestError):
    """A certificate file or value is malformed or not one of AMD's shapes."""


class CertTableError(AttestError):
    """An extended-report certificate table is malformed."""


class ChainError(AttestError):
    """The certificates needed to build a chain are missing or inconsistent."""


class CrlError(AttestError):
    """A certificate revocation list is malformed."""


class PolicyError(AttestError):
    """A policy file or value is invalid."""


class KdsError(AttestError):
    """The AMD Key Distribution Service could not provide what was asked for."""


class KdsRefusedError(KdsError):
    """KDS answered with a final (not retried) HTTP error, e.g. 404 for an unknown chip."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class KdsOfflineError(KdsError):
    """Offline mode: the item is not in any cache and the network must not be used."""
