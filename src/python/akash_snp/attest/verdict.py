"""The result of a verification: every check run, with name, outcome and detail.

A report is ``genuine`` only when every check passed; ``first_failure`` names the check a caller
should show first. ``evidence`` names the certificates the checks rest on and where each came
from, so that callers show exactly what was verified instead of selecting certificates again.
``as_dict``/``to_json`` give the CLI's and sidecar's JSON shape.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from akash_snp.attest.certs import AmdCertificate
from akash_snp.attest.report import Report

GENUINE = "genuine"
REJECTED = "rejected"

# Where a certificate of the evidence came from (with kds.FROM_KDS and kds.FROM_CACHE).
SUPPLIED = "supplied"
CERT_TABLE = "certificate table"
BUNDLED = "bundled AMD chain"


class Check(NamedTuple):
    """One check: a stable ``name`` (e.g. ``report_signature``), ``ok`` and a human ``detail``.

    A NamedTuple rather than a frozen dataclass: a verification creates about twenty of them, and
    a NamedTuple is built in half the time (about 10 us saved per warm verification).
    """

    name: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


class Sourced(NamedTuple):
    """A certificate of the evidence and where it came from (``SUPPLIED``, ``CERT_TABLE``, ...)."""

    certificate: AmdCertificate
    source: str

    def as_dict(self) -> dict[str, str]:
        cert = self.certificate
        return {
            "role": cert.role.value,
            "subject": cert.subject_cn,
            "sha256": cert.sha256.hex(),
            "source": self.source,
        }


class Evidence(NamedTuple):
    """The endorsement key (VCEK/VLEK), its intermediate (ASK/ASVK) and the root the verdict's
    chain checks ran on."""

    endorsement_key: Sourced
    intermediate: Sourced
    ark: Sourced

    def chain_pem(self) -> bytes:
        """Intermediate then ARK, PEM: the ``cert_chain`` of a /verify answer."""
        # imported here: cryptography's serialization package costs every `snp-verify report`
        # start-up about 10 ms, and only the attesting services show a chain
        from cryptography.hazmat.primitives.serialization import Encoding

        return b"".join(
            sourced.certificate.cert.public_bytes(Encoding.PEM)
            for sourced in (self.intermediate, self.ark)
        )

    def as_dict(self) -> dict[str, dict[str, str]]:
        return {name: sourced.as_dict() for name, sourced in zip(self._fields, self, strict=False)}


class Verdict(NamedTuple):
    """All checks, plus what was learned about the report (product, signing key, fields) and
    the certificates it was checked against (``None`` when verification stopped before that).

    A NamedTuple: a dataclass would cost every ``snp-verify`` start-up about a millisecond to
    create."""

    checks: tuple[Check, ...]
    product: str | None
    signing_key: str | None
    report: Report | None
    evidence: Evidence | None = None

    @property
    def genuine(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    @property
    def authentic(self) -> bool:
        """True when every non-policy check passed (policy checks are named ``policy.*``)."""
        relevant = [c for c in self.checks if not c.name.startswith("policy.")]
        return bool(relevant) and all(check.ok for check in relevant)

    @property
    def status(self) -> str:
        return GENUINE if self.genuine else REJECTED

    @property
    def first_failure(self) -> Check | None:
        return next((check for check in self.checks if not check.ok), None)

    def check(self, name: str) -> Check:
        """The check called ``name`` (KeyError when it was not run)."""
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.status,
            "checks": [check.as_dict() for check in self.checks],
            "product": self.product,
            "signing_key": self.signing_key,
            "report": None if self.report is None else self.report.as_dict(),
            "evidence": None if self.evidence is None else self.evidence.as_dict(),
        }

    def to_json(self) -> str:
        import json  # only JSON output needs it, not every ``snp-verify`` start-up

        return json.dumps(self.as_dict(), indent=2, sort_keys=False)

    def summary(self) -> str:
        """Human-readable check list, one line per check."""
        lines = [f"verdict: {self.status}"]
        lines += [f"[{'ok' if c.ok else 'FAIL'}] {c.name}: {c.detail}" for c in self.checks]
        if self.evidence is not None:
            lines += [
                f"evidence: {s.certificate.describe()} from {s.source}" for s in self.evidence
            ]
        return "\n".join(lines)
