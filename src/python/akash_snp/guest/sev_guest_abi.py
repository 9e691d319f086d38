"""The /dev/sev-guest ioctl ABI, laid out exactly as ``include/uapi/linux/sev-guest.h``.

Only layouts and constants live here; ``sev_guest_ioctl`` drives the protocol. Structures are
native x86-64 C layouts (no packing), as the kernel compiles them.
"""

from __future__ import annotations

import ctypes

# _IOWR(type, nr, size) from include/uapi/asm-generic/ioctl.h
_IOC_WRITE = 1
_IOC_READ = 2


def _iowr(kind: int, number: int, size: int) -> int:
    return ((_IOC_READ | _IOC_WRITE) << 30) | (size << 16) | (kind << 8) | number


SNP_GUEST_REQ_IOC_TYPE = ord("S")
SNP_MSG_VERSION = 1
"""msg_version must be non-zero; version 1 is the only one defined."""

SNP_REPORT_RESPONSE_SIZE = 4000
"""struct snp_report_resp { __u8 data[4000]; }"""

SNP_REPORT_OFFSET = 0x20
"""MSG_REPORT_RSP: u32 status, u32 report_size, 24 reserved bytes, then the report."""

SNP_GUEST_VMM_ERR_INVALID_LEN = 1
"""The certificate buffer is too small; certs_len now holds the size needed."""

SNP_GUEST_VMM_ERR_BUSY = 2
"""The host is busy (throttled); back off and retry."""

SNP_REPORT_SIZE = 0x4A0
"""ATTESTATION_REPORT is 1184 bytes (ABI spec)."""

PAGE_SIZE = 4096
"""The kernel wants certs_len in whole pages."""


class SnpReportReq(ctypes.Structure):
    """struct snp_report_req: user_data[64], u32 vmpl, u8 rsvd[28] (96 bytes)."""

    _fields_ = [
        ("user_data", ctypes.c_uint8 * 64),
        ("vmpl", ctypes.c_uint32),
        ("rsvd", ctypes.c_uint8 * 28),
    ]


class SnpExtReportReq(ctypes.Structure):
    """struct snp_ext_report_req: snp_report_req data, u64 certs_address, u32 certs_len."""

    _fields_ = [
        ("data", SnpReportReq),
        ("certs_address", ctypes.c_uint64),
        ("certs_len", ctypes.c_uint32),
    ]


class SnpGuestRequestIoctl(ctypes.Structure):
    """struct snp_guest_request_ioctl: u8 msg_version, u64 req_data, u64 resp_data, and the
    exitinfo2 union (low 32 bits fw_error, high 32 bits vmm_error on little-endian x86-64)."""

    _fields_ = [
        ("msg_version", ctypes.c_uint8),
        ("req_data", ctypes.c_uint64),
        ("resp_data", ctypes.c_uint64),
        ("exitinfo2", ctypes.c_uint64),
    ]

    @property
    def fw_error(self) -> int:
        """The firmware's status code (psp-sev.h SEV_RET_*)."""
        return int(self.exitinfo2) & 0xFFFFFFFF

    @property
    def vmm_error(self) -> int:
        """The hypervisor's code (SNP_GUEST_VMM_ERR_*)."""
        return int(self.exitinfo2) >> 32


SNP_GET_REPORT = _iowr(SNP_GUEST_REQ_IOC_TYPE, 0x0, ctypes.sizeof(SnpGuestRequestIoctl))
SNP_GET_EXT_REPORT = _iowr(SNP_GUEST_REQ_IOC_TYPE, 0x2, ctypes.sizeof(SnpGuestRequestIoctl))
