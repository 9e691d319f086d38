"""The configfs-tsm provider against a directory tree that behaves like the kernel's."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from akash_snp.guest.configfs_tsm import ConfigfsTsmProvider, OsConfigfsOps
from akash_snp.guest.provider import GuestError, ProviderUnavailable
from akash_snp.testing.fake_sev_guest import fake_firmware

DATA = bytes(range(100, 164))


class KernelLikeConfigfs(OsConfigfsOps):
    """Real files on disk, with the kernel's behaviour for the attributes we use: mkdir creates the
    attribute files, writes bump ``generation``, ``outblob``/``auxblob`` are produced from
    ``inblob`` and ``privlevel``, rmdir removes the whole entry."""

    def __init__(self, tsm: str = "sev_guest", aux: bytes = b"CERTS", busy_reads: int = 0) -> None:
        self.tsm = tsm
        self.aux = aux
        self.busy_reads = busy_reads
        self.race = False
        self.created: list[Path] = []

    def mkdir(self, path: Path) -> None:
        path.mkdir()
        self.created.append(path)
        (path / "provider").write_text(self.tsm + "\n")
        (path / "generation").write_text("0\n")
        (path / "privlevel_floor").write_text("0\n")
        for name in ("inblob", "privlevel"):
            (path / name).write_bytes(b"")

    def write(self, path: Path, data: bytes) -> None:
        if path.name == "privlevel" and int(data) > 3:
            raise OSError(errno.EINVAL, "privlevel out of range")
        if path.name == "inblob" and len(data) > 64:
            raise OSError(errno.EINVAL, "inblob too long")
        super().write(path, data)
        generation = path.parent / "generation"
        generation.write_text(f"{int(generation.read_text()) + 1}\n")

    def read(self, path: Path) -> bytes:
        if path.name == "outblob":
            if self.busy_reads:
                self.busy_reads -= 1
                raise OSError(errno.EBUSY, "busy")
            entry = path.parent
            vmpl = int((entry / "privlevel").read_text() or "0")
            if self.race:  # another process writes inblob between our two generation reads
                self.write(entry / "inblob", b"\x00" * 64)
            return fake_firmware((entry / "inblob").read_bytes().ljust(64, b"\0"), vmpl)
        if path.name == "auxblob":
            return self.aux
        return super().read(path)

    def rmdir(self, path: Path) -> None:
        for child in path.iterdir():
            child.unlink()
        path.rmdir()


def _provider(root: Path, ops: KernelLikeConfigfs) -> tuple[ConfigfsTsmProvider, list[float]]:
    root.mkdir(exist_ok=True)
    sleeps: list[float] = []
    return ConfigfsTsmProvider(root, ops=ops, sleep=sleeps.append), sleeps


def test_one_directory_per_request_removed_afterwards(tmp_path: Path) -> None:
    ops = KernelLikeConfigfs()
    provider, _ = _provider(tmp_path / "report", ops)
    first = provider.get_report(DATA)
    second = provider.get_report(DATA)
    assert first.report == fake_firmware(DATA, 0)
    assert first.cert_table == b"CERTS"
    assert first.provider == "configfs-tsm"
    assert second == first
    assert len(set(ops.created)) == 2
    assert list((tmp_path / "report").iterdir()) == []


def test_privlevel_zero_is_written_explicitly(tmp_path: Path) -> None:
    class Recording(KernelLikeConfigfs):
        writes: list[tuple[str, bytes]] = []

        def write(self, path: Path, data: bytes) -> None:
            self.writes.append((path.name, data))
            super().write(path, data)

    ops = Recording()
    provider, _ = _provider(tmp_path / "report", ops)
    got = provider.get_report(DATA)
    assert ops.writes == [("privlevel", b"0\n"), ("inblob", DATA)]
    assert got.report[0x30:0x34] == b"\0\0\0\0"


def test_empty_auxblob_gives_empty_table(tmp_path: Path) -> None:
    provider, _ = _provider(tmp_path / "report", KernelLikeConfigfs(aux=b""))
    assert provider.get_report(DATA).cert_table == b""


def test_generation_change_discards_the_report(tmp_path: Path) -> None:
    ops = KernelLikeConfigfs()
    ops.race = True
    provider, _ = _provider(tmp_path / "report", ops)
    with pytest.raises(GuestError, match="generation moved from 2 to 3"):
        provider.get_report(DATA)
    assert list((tmp_path / "report").iterdir()) == []


def test_other_tsm_provider_is_unavailable(tmp_path: Path) -> None:
    provider, _ = _provider(tmp_path / "report", KernelLikeConfigfs(tsm="tdx_guest"))
    with pytest.raises(ProviderUnavailable, match="tdx_guest"):
        provider.get_report(DATA)
    assert list((tmp_path / "report").iterdir()) == []


def test_busy_is_retried_then_succeeds(tmp_path: Path) -> None:
    provider, sleeps = _provider(tmp_path / "report", KernelLikeConfigfs(busy_reads=2))
    assert provider.get_report(DATA).report == fake_firmware(DATA, 0)
    assert sleeps == [0.25, 0.5]


def test_missing_root_is_unavailable(tmp_path: Path) -> None:
    provider = ConfigfsTsmProvider(tmp_path / "absent")
    with pytest.raises(ProviderUnavailable, match="configfs-tsm report root"):
        provider.get_report(DATA)


def test_plain_directory_without_kernel_files_is_an_error(tmp_path: Path) -> None:
    # A root that is an ordinary directory (no configfs behind it) must not yield a report.
    root = tmp_path / "report"
    root.mkdir()
    with pytest.raises(GuestError, match="configfs-tsm request failed"):
        ConfigfsTsmProvider(root).get_report(DATA)
    assert list(root.iterdir()) == []
