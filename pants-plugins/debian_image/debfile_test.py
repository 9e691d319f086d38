from __future__ import annotations

import pytest

from debian_image.debfile import ar_members, deb_entries
from debian_image.errors import ImageBuildError
from debian_image.fakes import ar_archive, deb
from debian_image.fsentry import DIRECTORY, FILE, SYMLINK, FsEntry


def test_ar_members_reads_odd_sized_members_with_padding() -> None:
    archive = ar_archive({"debian-binary": b"2.0\n", "odd": b"abc", "after": b"xy"})
    assert ar_members(archive) == {"debian-binary": b"2.0\n", "odd": b"abc", "after": b"xy"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not an ar archive", "ar magic"),
        (b"!<arch>\nshort", "bad ar header"),
        (ar_archive({"a": b"1234"})[:-2], "truncated"),
    ],
)
def test_ar_members_refuses_broken_archives(data: bytes, message: str) -> None:
    with pytest.raises(ImageBuildError, match=message):
        ar_members(data)


@pytest.mark.parametrize("compression", ["xz", "gz", ""])
def test_deb_entries_lists_files_directories_and_links(compression: str) -> None:
    package = deb(
        {"usr/bin/tool": b"#tool", "usr/lib/x/libx.so.1.0": b"ELF"},
        symlinks={"usr/lib/x/libx.so.1": "libx.so.1.0"},
        hardlinks={"usr/bin/tool2": "usr/bin/tool"},
        compression=compression,
    )
    entries = {e.path: e for e in deb_entries(package)}
    assert entries["usr/bin/tool"] == FsEntry("usr/bin/tool", FILE, 0o644, b"#tool")
    assert entries["usr/bin/tool2"] == FsEntry("usr/bin/tool2", FILE, 0o755, b"#tool")
    assert entries["usr/lib/x/libx.so.1"] == FsEntry(
        "usr/lib/x/libx.so.1", SYMLINK, 0o777, target="libx.so.1.0"
    )
    assert entries["usr/lib"].kind == DIRECTORY
    assert "" not in entries


def test_deb_entries_refuses_unsupported_compression_and_bad_packages() -> None:
    with pytest.raises(ImageBuildError, match="unsupported compression"):
        deb_entries(deb({"a": b"1"}, compression=".zst"))
    with pytest.raises(ImageBuildError, match="Debian 2.0"):
        deb_entries(ar_archive({"debian-binary": b"3.0\n"}))
    with pytest.raises(ImageBuildError, match="cannot decompress"):
        deb_entries(ar_archive({"debian-binary": b"2.0\n", "data.tar.xz": b"garbage"}))


def test_deb_entries_refuses_paths_that_leave_the_root() -> None:
    with pytest.raises(ImageBuildError, match="leaves the root"):
        deb_entries(deb({"usr/../../etc/shadow": b"x"}))
