"""The ctypes layouts must match include/uapi/linux/sev-guest.h byte for byte."""

from __future__ import annotations

import ctypes

from akash_snp.guest import sev_guest_abi as abi


def test_ioctl_numbers_match_the_kernel_header() -> None:
    assert abi.SNP_GET_REPORT == 0xC0205300
    assert abi.SNP_GET_EXT_REPORT == 0xC0205302


def test_guest_request_ioctl_layout() -> None:
    cls = abi.SnpGuestRequestIoctl
    assert ctypes.sizeof(cls) == 32
    assert cls.msg_version.offset == 0
    assert cls.req_data.offset == 8
    assert cls.resp_data.offset == 16
    assert cls.exitinfo2.offset == 24


def test_exitinfo2_union_splits_fw_and_vmm_errors() -> None:
    arg = abi.SnpGuestRequestIoctl(exitinfo2=(2 << 32) | 0x16)
    raw = bytes(arg)
    assert raw[24:28] == (0x16).to_bytes(4, "little")  # fw_error
    assert raw[28:32] == (2).to_bytes(4, "little")  # vmm_error
    assert (arg.fw_error, arg.vmm_error) == (0x16, 2)


def test_report_request_layouts() -> None:
    assert ctypes.sizeof(abi.SnpReportReq) == 96
    assert abi.SnpReportReq.vmpl.offset == 64
    assert abi.SnpReportReq.rsvd.offset == 68
    assert ctypes.sizeof(abi.SnpExtReportReq) == 112
    assert abi.SnpExtReportReq.certs_address.offset == 96
    assert abi.SnpExtReportReq.certs_len.offset == 104


def test_response_constants() -> None:
    assert abi.SNP_REPORT_RESPONSE_SIZE == 4000
    assert abi.SNP_REPORT_OFFSET == 0x20
    assert abi.SNP_REPORT_SIZE == 1184
