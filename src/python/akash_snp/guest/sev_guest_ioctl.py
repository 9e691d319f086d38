"""/dev/sev-guest report provider (Linux >= 5.19): SNP_GET_EXT_REPORT with the certificate
buffer sizing protocol and busy back-off, falling back to SNP_GET_REPORT.

The ioctl itself goes through ``IoctlBackend`` so that tests can drive the exact buffers built
here with an emulated device that reads and writes them the way the kernel does.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import logging
import os
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from akash_snp.guest.provider import (
    REQUESTED_VMPL,
    FirmwareBusy,
    GuestError,
    GuestReport,
    ProviderUnavailable,
    busy_pauses,
    check_report_data,
)
from akash_snp.guest.sev_guest_abi import (
    PAGE_SIZE,
    SNP_GET_EXT_REPORT,
    SNP_GET_REPORT,
    SNP_GUEST_VMM_ERR_BUSY,
    SNP_GUEST_VMM_ERR_INVALID_LEN,
    SNP_MSG_VERSION,
    SNP_REPORT_OFFSET,
    SNP_REPORT_RESPONSE_SIZE,
    SNP_REPORT_SIZE,
    SnpExtReportReq,
    SnpGuestRequestIoctl,
    SnpReportReq,
)

DEFAULT_DEVICE = Path("/dev/sev-guest")
MAX_CERTS_LEN = 0x4000 * 4
"""Upper bound on a host certificate table we accept (the kernel caps it at SEV_FW_BLOB_MAX_SIZE,
16 KiB; allow some headroom for newer kernels)."""

_log = logging.getLogger(__name__)


class IoctlBackend(Protocol):
    """Issue one ioctl on the guest device; return 0 or the errno. ``arg`` is updated in place."""

    def ioctl(self, request: int, arg: SnpGuestRequestIoctl) -> int: ...


class DeviceBackend:
    """The real device: ``fcntl.ioctl`` with the structure as a mutable buffer, so the kernel's
    write-back of exitinfo2 (and of certs_len, through req_data) reaches us even on failure."""

    def __init__(self, device: Path = DEFAULT_DEVICE) -> None:
        self._device = device

    def ioctl(self, request: int, arg: SnpGuestRequestIoctl) -> int:
        try:
            fd = os.open(self._device, os.O_RDWR | os.O_CLOEXEC)
        except OSError as error:
            raise GuestError(f"cannot open {self._device}: {error.strerror}") from error
        try:
            fcntl.ioctl(fd, request, arg, True)
        except OSError as error:
            return error.errno or errno.EIO
        finally:
            os.close(fd)
        return 0


class _Unsupported(Exception):
    """SNP_GET_EXT_REPORT is not usable here; try SNP_GET_REPORT."""


class SevGuestIoctlProvider:
    """Ask the firmware through /dev/sev-guest; see the module docstring for the protocol."""

    name = "ioctl"

    def __init__(
        self,
        device: Path = DEFAULT_DEVICE,
        backend: IoctlBackend | None = None,
        busy_deadline: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._device = device
        self._backend = backend or DeviceBackend(device)
        self._busy_deadline = busy_deadline
        self._sleep = sleep

    def check_available(self) -> None:
        """Raise ``ProviderUnavailable`` unless the device node exists."""
        if not self._device.exists():
            raise ProviderUnavailable(
                f"{self._device} does not exist (needs Linux >= 5.19 in an SNP guest, "
                "and the device passed into the container)"
            )

    def get_report(self, report_data: bytes) -> GuestReport:
        data = check_report_data(report_data)
        self.check_available()
        try:
            report, cert_table = self._extended_report(data)
        except _Unsupported as reason:
            _log.info("SNP_GET_EXT_REPORT unusable (%s); falling back to SNP_GET_REPORT", reason)
            report, cert_table = self._plain_report(data), b""
        return GuestReport(report=report, cert_table=cert_table, provider=self.name)

    def _extended_report(self, data: bytes) -> tuple[bytes, bytes]:
        request = SnpExtReportReq()
        _fill_report_req(request.data, data)
        certs: ctypes.Array[ctypes.c_uint8] | None = None
        for _ in range(3):
            response = (ctypes.c_uint8 * SNP_REPORT_RESPONSE_SIZE)()
            failure, arg = self._issue(SNP_GET_EXT_REPORT, request, response)
            if failure == 0:
                table = bytes(certs) if certs is not None else b""
                return _report_from_response(response), table
            if arg.vmm_error != SNP_GUEST_VMM_ERR_INVALID_LEN:
                raise _Unsupported(_describe(failure, arg))
            needed = int(request.certs_len)
            if needed <= 0 or needed > MAX_CERTS_LEN:
                raise GuestError(
                    f"SNP_GET_EXT_REPORT asked for a {needed}-byte certificate buffer "
                    f"(accepted: 1..{MAX_CERTS_LEN})"
                )
            size = -(-needed // PAGE_SIZE) * PAGE_SIZE
            certs = (ctypes.c_uint8 * size)()
            request.certs_address = ctypes.addressof(certs)
            request.certs_len = size
        raise GuestError("SNP_GET_EXT_REPORT kept changing the certificate buffer size")

    def _plain_report(self, data: bytes) -> bytes:
        request = SnpReportReq()
        _fill_report_req(request, data)
        response = (ctypes.c_uint8 * SNP_REPORT_RESPONSE_SIZE)()
        failure, arg = self._issue(SNP_GET_REPORT, request, response)
        if failure:
            raise GuestError(f"SNP_GET_REPORT failed: {_describe(failure, arg)}")
        return _report_from_response(response)

    def _issue(
        self,
        request_code: int,
        request: ctypes.Structure,
        response: ctypes.Array[ctypes.c_uint8],
    ) -> tuple[int, SnpGuestRequestIoctl]:
        """One guest request, retried with exponential back-off while the host says busy."""
        pauses = busy_pauses(self._busy_deadline, first=0.1)
        while True:
            arg = SnpGuestRequestIoctl(
                msg_version=SNP_MSG_VERSION,
                req_data=ctypes.addressof(request),
                resp_data=ctypes.addressof(response),
                exitinfo2=0,
            )
            failure = self._backend.ioctl(request_code, arg)
            if failure == 0 or arg.vmm_error != SNP_GUEST_VMM_ERR_BUSY:
                return failure, arg
            pause = next(pauses, None)
            if pause is None:
                raise FirmwareBusy(f"the host stayed busy for {self._busy_deadline:g} s")
            self._sleep(pause)


def _fill_report_req(request: SnpReportReq, data: bytes) -> None:
    ctypes.memmove(request.user_data, data, len(data))
    request.vmpl = REQUESTED_VMPL


def _report_from_response(response: ctypes.Array[ctypes.c_uint8]) -> bytes:
    raw = bytes(response)
    status, size = struct.unpack_from("<II", raw, 0)
    if status != 0:
        raise GuestError(f"firmware answered MSG_REPORT_RSP status 0x{status:x}")
    if not SNP_REPORT_SIZE <= size <= SNP_REPORT_RESPONSE_SIZE - SNP_REPORT_OFFSET:
        raise GuestError(f"firmware reported a {size}-byte report (expected {SNP_REPORT_SIZE})")
    return raw[SNP_REPORT_OFFSET : SNP_REPORT_OFFSET + size]


def _describe(failure: int, arg: SnpGuestRequestIoctl) -> str:
    return (
        f"{errno.errorcode.get(failure, str(failure))} "
        f"(fw_error 0x{arg.fw_error:x}, vmm_error 0x{arg.vmm_error:x})"
    )
