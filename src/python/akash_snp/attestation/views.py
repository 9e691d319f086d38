"""The JSON that /verify returns: the fields users already rely on, the decoded report, and a
plain statement of what a report does and does not prove (SEV-SNP ABI spec, Table 23
ATTESTATION_REPORT Structure: what the firmware puts in the report). Pure functions."""

from __future__ import annotations

import base64
from typing import Any

from akash_snp.attestation.state import PENDING, Attestation
from akash_snp.attestation.timefmt import rfc3339

PROVES = (
    "The report was signed by a genuine AMD SEV-SNP processor: its VCEK or VLEK key chains to "
    "AMD's root key (only when attestation_status is 'verified' against AMD's pinned roots; a "
    "report from the emulated provider never passes against them).",
    "The guest policy and the firmware TCB versions of the SNP guest this pod runs in.",
    "The launch MEASUREMENT of the guest's initial image. On AWS this covers the guest firmware "
    "only: not the kernel, not k3s, not container images.",
    "REPORT_DATA, chosen by whoever asked for the report. It proves freshness to you only when it "
    "commits to a nonce you chose: use /verify?nonce=<hex> or `snp-verify url`.",
)
DOES_NOT_PROVE = (
    "Which container, image or code runs in this pod or on this node.",
    "That this pod is isolated from the node's operator: every pod on the node shares one SNP "
    "guest, and whoever is root in the guest (the provider) can request reports too.",
    "Anything about software loaded after launch (kernel, k3s, workloads).",
)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def attestation_json(result: Attestation | None, provider: str) -> dict[str, Any]:
    """The /verify body for ``result`` (``None``: no attempt finished yet, status ``pending``)."""
    if result is None:
        body: dict[str, Any] = {
            "attestation_status": PENDING,
            "last_verification": None,
            "verification_output": "no attestation has completed yet",
            "attestation_report": None,
            "cert_chain": None,
            "provider": provider,
        }
    else:
        outcome = result.outcome
        body = {
            "attestation_status": result.status,
            "last_verification": rfc3339(result.at),
            "verification_output": result.detail,
            "attestation_report": _b64(result.report) if result.report is not None else None,
            "cert_chain": _b64(outcome.chain_pem) if outcome and outcome.chain_pem else None,
            "provider": result.provider,
            "report_data_binding": result.binding,
        }
        if outcome is not None:
            if outcome.endorsement_der is not None:
                key = "vlek_certificate" if outcome.signing_key == "VLEK" else "vcek_certificate"
                body[key] = _b64(outcome.endorsement_der)
            body["product"] = outcome.product
            body["signing_key"] = outcome.signing_key
            body["checks"] = outcome.checks
            body["report"] = outcome.report_fields
            body["evidence"] = outcome.evidence
    body["what_this_proves"] = list(PROVES)
    body["what_this_does_not_prove"] = list(DOES_NOT_PROVE)
    return body
