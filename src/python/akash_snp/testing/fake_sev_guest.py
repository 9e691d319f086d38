"""A stand-in for the kernel's sev-guest driver, for tests of the ioctl provider.

It reads the request through the addresses in ``snp_guest_request_ioctl`` and writes the response,
the certificate table and the updated certs_len back through them, as the kernel does with
copy_from_user/copy_to_user; so the provider's real packed buffers are what gets tested. It answers
busy a configurable number of times and follows the certificate buffer sizing protocol.
"""

from __future__ import annotations

import ctypes
import errno
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from akash_snp.guest.sev_guest_abi import (
    PAGE_SIZE,
    SNP_GET_EXT_REPORT,
    SNP_GET_REPORT,
    SNP_GUEST_VMM_ERR_BUSY,
    SNP_GUEST_VMM_ERR_INVALID_LEN,
    SNP_REPORT_RESPONSE_SIZE,
    SnpExtReportReq,
    SnpGuestRequestIoctl,
    SnpReportReq,
)

Firmware = Callable[[bytes, int], bytes]
"""(REPORT_DATA, VMPL) -> raw report."""


def fake_firmware(report_data: bytes, vmpl: int) -> bytes:
    """An unsigned 1184-byte "report" with VERSION 3, VMPL at 0x30 and REPORT_DATA at 0x50."""
    report = bytearray(1184)
    struct.pack_into("<I", report, 0, 3)
    struct.pack_into("<I", report, 0x30, vmpl)
    report[0x50:0x90] = report_data
    return bytes(report)


@dataclass
class DeviceCall:
    """What one ioctl carried, as the kernel would have read it."""

    request: int
    user_data: bytes
    vmpl: int
    certs_len: int | None
    outcome: str


@dataclass
class FakeSevGuestDevice:
    """Emulated /dev/sev-guest; ``calls`` records every ioctl in order."""

    firmware: Firmware
    cert_table: bytes = b""
    busy_replies: int = 0
    supports_extended: bool = True
    calls: list[DeviceCall] = field(default_factory=list)

    def ioctl(self, request: int, arg: SnpGuestRequestIoctl) -> int:
        if request not in (SNP_GET_REPORT, SNP_GET_EXT_REPORT) or (
            request == SNP_GET_EXT_REPORT and not self.supports_extended
        ):
            self.calls.append(DeviceCall(request, b"", -1, None, "ENOTTY"))
            return errno.ENOTTY
        if arg.msg_version == 0:
            return errno.EINVAL
        if request == SNP_GET_EXT_REPORT:
            ext = SnpExtReportReq.from_buffer_copy(
                ctypes.string_at(arg.req_data, ctypes.sizeof(SnpExtReportReq))
            )
            base, certs_len, certs_address = ext.data, int(ext.certs_len), int(ext.certs_address)
        else:
            base = SnpReportReq.from_buffer_copy(
                ctypes.string_at(arg.req_data, ctypes.sizeof(SnpReportReq))
            )
            certs_len, certs_address = 0, 0
        user_data, vmpl = bytes(base.user_data), int(base.vmpl)
        ext_len = certs_len if request == SNP_GET_EXT_REPORT else None

        def record(outcome: str) -> None:
            self.calls.append(DeviceCall(request, user_data, vmpl, ext_len, outcome))

        if any(base.rsvd) or vmpl > 3:
            record("EINVAL")
            return errno.EINVAL
        if certs_len and certs_address and certs_len % PAGE_SIZE:
            record("EINVAL")
            return errno.EINVAL
        if self.busy_replies > 0:
            self.busy_replies -= 1
            arg.exitinfo2 = SNP_GUEST_VMM_ERR_BUSY << 32
            record("busy")
            return errno.EAGAIN
        if request == SNP_GET_EXT_REPORT and self.cert_table:
            needed = -(-len(self.cert_table) // PAGE_SIZE) * PAGE_SIZE
            if not certs_address or certs_len < needed:
                ext.certs_len = needed
                ctypes.memmove(arg.req_data, ctypes.addressof(ext), ctypes.sizeof(ext))
                arg.exitinfo2 = SNP_GUEST_VMM_ERR_INVALID_LEN << 32
                record("invalid-length")
                return errno.EIO
            padded = self.cert_table.ljust(certs_len, b"\0")
            ctypes.memmove(certs_address, padded, certs_len)
        report = self.firmware(user_data, vmpl)
        response = struct.pack("<II24x", 0, len(report)) + report  # MSG_REPORT_RSP
        response = response[:SNP_REPORT_RESPONSE_SIZE]
        ctypes.memmove(arg.resp_data, response, len(response))
        record("ok")
        return 0
