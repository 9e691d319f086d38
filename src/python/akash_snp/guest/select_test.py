"""Provider selection: auto prefers configfs-tsm, then the device, else unavailable."""

from __future__ import annotations

from pathlib import Path

import pytest

from akash_snp.guest.configfs_tsm import ConfigfsTsmProvider
from akash_snp.guest.provider import ProviderUnavailable
from akash_snp.guest.select import ProviderConfig, UnavailableProvider, open_provider
from akash_snp.guest.sev_guest_ioctl import SevGuestIoctlProvider


def _config(tmp_path: Path, kind: str = "auto") -> ProviderConfig:
    return ProviderConfig(
        kind=kind, configfs_root=tmp_path / "tsm" / "report", device=tmp_path / "sev-guest"
    )


def test_auto_prefers_configfs_tsm(tmp_path: Path) -> None:
    (tmp_path / "tsm" / "report").mkdir(parents=True)
    (tmp_path / "sev-guest").touch()
    assert isinstance(open_provider(_config(tmp_path)), ConfigfsTsmProvider)


def test_auto_uses_the_device_without_configfs(tmp_path: Path) -> None:
    (tmp_path / "sev-guest").touch()
    assert isinstance(open_provider(_config(tmp_path)), SevGuestIoctlProvider)


def test_auto_without_interfaces_is_unavailable_with_reasons(tmp_path: Path) -> None:
    provider = open_provider(_config(tmp_path))
    assert isinstance(provider, UnavailableProvider)
    with pytest.raises(ProviderUnavailable) as error:
        provider.get_report(b"\0" * 64)
    assert "configfs-tsm report root" in str(error.value)
    assert "sev-guest does not exist" in str(error.value)


def test_explicit_choices(tmp_path: Path) -> None:
    assert isinstance(open_provider(_config(tmp_path, "configfs-tsm")), ConfigfsTsmProvider)
    assert isinstance(open_provider(_config(tmp_path, "ioctl")), SevGuestIoctlProvider)
    with pytest.raises(ValueError, match="unknown provider"):
        open_provider(_config(tmp_path, "snpguest"))
    with pytest.raises(ValueError, match="emulated PKI directory"):
        open_provider(_config(tmp_path, "emulated"))
