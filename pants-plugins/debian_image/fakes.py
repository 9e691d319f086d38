"""Small Debian packages and PEX files made in memory, for tests of the image builder."""

from __future__ import annotations

import gzip
import io
import json
import lzma
import tarfile
import zipfile
from collections.abc import Mapping


def ar_archive(members: Mapping[str, bytes]) -> bytes:
    """A common-format `ar` archive of the members, in the given order."""
    out = bytearray(b"!<arch>\n")
    for name, data in members.items():
        header = f"{name:<16}{0:<12}{0:<6}{0:<6}{'100644':<8}{len(data):<10}`\n"
        out += header.encode("ascii") + data + (b"\n" if len(data) % 2 else b"")
    return bytes(out)


def data_tar(
    files: Mapping[str, bytes],
    symlinks: Mapping[str, str] | None = None,
    hardlinks: Mapping[str, str] | None = None,
) -> bytes:
    """A dpkg-style data.tar ("./" prefixed names, directories first) of files and links."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        directories = sorted(
            {"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)}
        )
        for directory in ["", *directories]:
            info = tarfile.TarInfo(f"./{directory}/" if directory else "./")
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            archive.addfile(info)
        for path, data in files.items():
            info = tarfile.TarInfo(f"./{path}")
            info.size, info.mode, info.mtime = len(data), 0o644, 1_700_000_000
            archive.addfile(info, io.BytesIO(data))
        for path, target in (symlinks or {}).items():
            info = tarfile.TarInfo(f"./{path}")
            info.type, info.linkname = tarfile.SYMTYPE, target
            archive.addfile(info)
        for path, target in (hardlinks or {}).items():
            info = tarfile.TarInfo(f"./{path}")
            info.type, info.linkname, info.mode = tarfile.LNKTYPE, f"./{target}", 0o755
            archive.addfile(info)
    return buffer.getvalue()


def deb(
    files: Mapping[str, bytes],
    symlinks: Mapping[str, str] | None = None,
    hardlinks: Mapping[str, str] | None = None,
    compression: str = "xz",
) -> bytes:
    """A .deb holding the files and links, its data.tar compressed with xz, gz or not at all."""
    tar = data_tar(files, symlinks, hardlinks)
    if compression == "xz":
        member, blob = "data.tar.xz", lzma.compress(tar)
    elif compression == "gz":
        member, blob = "data.tar.gz", gzip.compress(tar, mtime=0)
    else:
        member, blob = f"data.tar{compression}", tar
    control = gzip.compress(data_tar({"control": b"Package: fake\n"}), mtime=0)
    return ar_archive({"debian-binary": b"2.0\n", "control.tar.gz": control, member: blob})


def pex(
    distributions: Mapping[str, str],
    files: Mapping[str, bytes] | None = None,
    entry_point: str = "app.main:main",
) -> bytes:
    """A zip with a shebang line in front, a PEX-INFO member and `files` (paths as in a real PEX:
    `.deps/<wheel>/...`, `.bootstrap/...`, first-party code at the top), like a real PEX."""
    buffer = io.BytesIO()
    buffer.write(b"#!/usr/bin/env python3.11\n")
    info = {"distributions": dict(distributions), "entry_point": entry_point}
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("PEX-INFO", json.dumps(info))
        archive.writestr("__main__.py", "")
        for path, data in (files or {}).items():
            member = zipfile.ZipInfo(path)
            member.external_attr = (0o755 if path.endswith(".so") else 0o644) << 16
            archive.writestr(member, data)
    return buffer.getvalue()
