"""The emulated provider: reports signed by the emulated AMD PKI (``akash_snp.emulation``)
instead of a real PSP. For demos and tests, and only when configured by name: its root is
not AMD's, so its reports never pass against AMD's pinned roots, only with ``--trust-ark
DIR/ark.pem``. It answers like SNP_GET_EXT_REPORT with a VCEK, ASK and ARK in the table, or, with
``cert_table="none"``, with an empty table like a host that supplies no certificates: the verifier
then fetches the VCEK and its chain from (a fake) KDS.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from akash_snp.attest.certtable import CertTableEntry, build_cert_table
from akash_snp.attest.constants import GUID_ARK, GUID_ASK, GUID_VCEK
from akash_snp.emulation.firmware import DEFAULT_TCB, sign, unsigned_report
from akash_snp.emulation.pki import EmulatedAmd
from akash_snp.guest.provider import REQUESTED_VMPL, GuestReport, check_report_data
from akash_snp.guest.select import CertTableChoice

EMULATED_MEASUREMENT = hashlib.sha384(b"akash-snp emulated guest launch").digest()
"""A fixed, recognisable launch digest: there is no real guest image behind it."""


class EmulatedProvider:
    """Signs reports for one emulated chip (default chip id, the product's default TCB)."""

    name = "emulated"

    def __init__(self, pki: EmulatedAmd, cert_table: CertTableChoice = "full") -> None:
        self._product = pki.product
        self._tcb = DEFAULT_TCB[pki.product]
        self._chip_id = pki.default_chip_id()
        self._key = pki.vcek_key(self._chip_id, self._tcb)
        self._cert_table = b""
        if cert_table == "full":
            self._cert_table = build_cert_table(
                [
                    CertTableEntry(GUID_VCEK, pki.vcek_der(self._chip_id, self._tcb)),
                    CertTableEntry(GUID_ASK, pki.ask_der()),
                    CertTableEntry(GUID_ARK, pki.ark_der()),
                ]
            )

    @classmethod
    def from_directory(
        cls, directory: Path, product: str = "Genoa", cert_table: CertTableChoice = "full"
    ) -> EmulatedProvider:
        """Reuse the emulated PKI in ``directory`` or create it (root written as ark.pem)."""
        return cls(EmulatedAmd.load_or_create(directory, product), cert_table)

    def get_report(self, report_data: bytes) -> GuestReport:
        report = unsigned_report(
            self._product,
            report_data=check_report_data(report_data),
            vmpl=REQUESTED_VMPL,
            chip_id=self._chip_id,
            tcb=self._tcb,
            measurement=EMULATED_MEASUREMENT,
        )
        return GuestReport(sign(report, self._key), self._cert_table, self.name)
