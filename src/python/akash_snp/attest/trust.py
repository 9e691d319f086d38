"""What a verifier is configured with, read from files: extra trusted roots and the policy.

One loader for ``snp-verify``, the sidecar and the node agent, so each accepts the same files and
refuses the same mistakes: inputs are read with a size cap (``/dev/zero`` or a mistaken
multi-gigabyte file must not exhaust memory), and a trusted root must be a self-signed ARK-shaped
certificate (AMD's own roots are pinned; this is for emulated or test PKIs).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from cryptography import x509

from akash_snp.attest.certs import CertRole, load_certificates
from akash_snp.attest.errors import AttestError
from akash_snp.attest.policy import Policy, load_policy

if TYPE_CHECKING:
    from os import PathLike
    from pathlib import Path

# Certificates, certificate tables, CRLs, roots and policies are a few kilobytes each.
MAX_INPUT_BYTES = 1024 * 1024


class InputFileError(AttestError):
    """A configured or given file cannot be read, or is not what it was given as."""


def read_input(path: str | PathLike[str], what: str, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The file's content, at most ``limit`` bytes (more is an error: the file is not ``what``).

    ``path`` may be a plain string: ``snp-verify report`` passes its arguments as given, which
    spares every start-up the import of ``pathlib`` (about 1.5 ms)."""
    try:
        with open(path, "rb") as stream:
            data = stream.read(limit + 1)
    except OSError as error:
        reason = error.strerror or error
        raise InputFileError(f"cannot read {what} {_shown(path)}: {reason}") from error
    if len(data) > limit:
        raise InputFileError(f"{what} {_shown(path)} is larger than {limit} bytes: not a {what}")
    return data


def _shown(path: str | PathLike[str]) -> str:
    """``path`` as a ``Path`` prints it, so that messages do not depend on how it was given."""
    from pathlib import PurePath

    return str(PurePath(path))


def load_trusted_roots(paths: Iterable[Path]) -> tuple[x509.Certificate, ...]:
    """The ARK certificates in ``paths`` (PEM or DER, one or more per file)."""
    roots: list[x509.Certificate] = []
    for path in paths:
        blob = read_input(path, "trusted root file")
        try:
            loaded = load_certificates(blob)
        except AttestError as error:
            raise InputFileError(f"trusted root file {path}: {error}") from error
        arks = [c.cert for c in loaded if c.role is CertRole.ARK]
        if not arks:
            raise InputFileError(
                f"trusted root file {path} holds no ARK (self-signed root) certificate"
            )
        roots.extend(arks)
    return tuple(roots)


def load_policy_file(path: Path | None) -> Policy:
    """The policy in ``path`` (YAML or JSON), or the library's safe defaults for ``None``."""
    if path is None:
        return Policy()
    text = read_input(path, "policy file")
    try:
        return load_policy(text)
    except RecursionError:
        raise InputFileError(f"policy file {path} nests too deeply to be a policy") from None
    except AttestError as error:
        raise InputFileError(f"policy file {path}: {error}") from error
