"""The ioctl provider against an emulated device that reads the real buffers like the kernel."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from akash_snp.guest.provider import FirmwareBusy, GuestError, ProviderUnavailable
from akash_snp.guest.sev_guest_abi import SNP_GET_EXT_REPORT, SNP_GET_REPORT
from akash_snp.guest.sev_guest_ioctl import SevGuestIoctlProvider
from akash_snp.testing.fake_sev_guest import FakeSevGuestDevice, fake_firmware

DATA = bytes(range(64))


def _provider(
    tmp_path: Path, device: FakeSevGuestDevice, **kwargs: float
) -> tuple[SevGuestIoctlProvider, list[float]]:
    node = tmp_path / "sev-guest"
    node.touch()
    sleeps: list[float] = []
    provider = SevGuestIoctlProvider(node, backend=device, sleep=sleeps.append, **kwargs)
    return provider, sleeps


def test_extended_report_without_host_certificates(tmp_path: Path) -> None:
    device = FakeSevGuestDevice(fake_firmware)
    provider, _ = _provider(tmp_path, device)
    got = provider.get_report(DATA)
    assert got.report == fake_firmware(DATA, 0)
    assert got.report[0x50:0x90] == DATA
    assert got.cert_table == b""
    assert [(c.request, c.vmpl, c.certs_len, c.outcome) for c in device.calls] == [
        (SNP_GET_EXT_REPORT, 0, 0, "ok")
    ]


def test_certificate_buffer_sizing_protocol(tmp_path: Path) -> None:
    table = b"\x01" * 5000  # needs two pages
    device = FakeSevGuestDevice(fake_firmware, cert_table=table)
    provider, _ = _provider(tmp_path, device)
    got = provider.get_report(DATA)
    assert [(c.certs_len, c.outcome) for c in device.calls] == [
        (0, "invalid-length"),
        (8192, "ok"),
    ]
    assert got.cert_table == table + b"\0" * (8192 - 5000)
    assert got.report[0x50:0x90] == DATA
    assert all(call.user_data == DATA and call.vmpl == 0 for call in device.calls)


def test_busy_host_is_retried_with_back_off(tmp_path: Path) -> None:
    device = FakeSevGuestDevice(fake_firmware, busy_replies=3)
    provider, sleeps = _provider(tmp_path, device)
    got = provider.get_report(DATA)
    assert got.report == fake_firmware(DATA, 0)
    assert [c.outcome for c in device.calls] == ["busy", "busy", "busy", "ok"]
    assert sleeps == [0.1, 0.2, 0.4]


def test_busy_past_the_deadline_fails(tmp_path: Path) -> None:
    device = FakeSevGuestDevice(fake_firmware, busy_replies=100)
    provider, _ = _provider(tmp_path, device, busy_deadline=1.0)
    with pytest.raises(FirmwareBusy, match="busy"):
        provider.get_report(DATA)


def test_falls_back_to_plain_report(tmp_path: Path) -> None:
    device = FakeSevGuestDevice(fake_firmware, supports_extended=False)
    provider, _ = _provider(tmp_path, device)
    got = provider.get_report(DATA)
    assert got.report == fake_firmware(DATA, 0)
    assert got.cert_table == b""
    assert [(c.request, c.outcome) for c in device.calls] == [
        (SNP_GET_EXT_REPORT, "ENOTTY"),
        (SNP_GET_REPORT, "ok"),
    ]


def test_plain_report_failure_is_a_guest_error(tmp_path: Path) -> None:
    class Broken:
        def ioctl(self, request: int, arg: object) -> int:
            return errno.EIO

    node = tmp_path / "sev-guest"
    node.touch()
    provider = SevGuestIoctlProvider(node, backend=Broken())
    with pytest.raises(GuestError, match="SNP_GET_REPORT failed: EIO"):
        provider.get_report(DATA)


def test_bad_response_status_is_rejected(tmp_path: Path) -> None:
    device = FakeSevGuestDevice(lambda data, vmpl: b"\0" * 100)
    provider, _ = _provider(tmp_path, device)
    with pytest.raises(GuestError, match="100-byte report"):
        provider.get_report(DATA)


def test_missing_device_is_unavailable(tmp_path: Path) -> None:
    provider = SevGuestIoctlProvider(tmp_path / "nope", backend=FakeSevGuestDevice(fake_firmware))
    with pytest.raises(ProviderUnavailable, match="does not exist"):
        provider.get_report(DATA)


def test_report_data_must_be_64_bytes(tmp_path: Path) -> None:
    provider, _ = _provider(tmp_path, FakeSevGuestDevice(fake_firmware))
    with pytest.raises(ValueError, match="exactly 64 bytes"):
        provider.get_report(b"short")


def test_real_device_backend_passes_the_structure_to_the_kernel(tmp_path: Path) -> None:
    # A regular file has no ioctls: the kernel answers ENOTTY for both requests.
    node = tmp_path / "not-a-device"
    node.touch()
    provider = SevGuestIoctlProvider(node)
    with pytest.raises(GuestError, match="ENOTTY"):
        provider.get_report(DATA)


def test_device_that_cannot_be_opened_is_a_guest_error(tmp_path: Path) -> None:
    # A directory stands in for a device node we may not open (EISDIR, like EACCES).
    provider = SevGuestIoctlProvider(tmp_path)
    with pytest.raises(GuestError, match=f"cannot open {tmp_path}"):
        provider.get_report(DATA)
