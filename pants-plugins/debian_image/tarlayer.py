"""Deterministic tar archives: sorted names, owner 0:0 by number, mtime 0, no pax time records.

The same entries always give the same bytes, on any machine and Python version that writes the
GNU tar format, so layer digests depend on content alone.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterable

from debian_image.errors import ImageBuildError
from debian_image.fsentry import DIRECTORY, FILE, SYMLINK, FsEntry

_DIR_MODE = 0o755


def with_parents(entries: Iterable[FsEntry]) -> list[FsEntry]:
    """Entries plus missing parent directories (mode 0755), sorted by path; no duplicates."""
    by_path: dict[str, FsEntry] = {}
    for entry in entries:
        if entry.path in by_path:
            raise ImageBuildError(f"layer path {entry.path!r} is given twice")
        by_path[entry.path] = entry
    for path in list(by_path):
        parts = path.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            existing = by_path.get(parent)
            if existing is None:
                by_path[parent] = FsEntry(parent, DIRECTORY, _DIR_MODE)
            elif existing.kind != DIRECTORY:
                raise ImageBuildError(f"{path!r} lies under {parent!r}, which is a {existing.kind}")
    return [by_path[path] for path in sorted(by_path)]


def _info(entry: FsEntry) -> tarfile.TarInfo:
    info = tarfile.TarInfo(entry.path + ("/" if entry.kind == DIRECTORY else ""))
    info.mode = entry.mode
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = 0
    if entry.kind == DIRECTORY:
        info.type = tarfile.DIRTYPE
    elif entry.kind == SYMLINK:
        info.type = tarfile.SYMTYPE
        info.linkname = entry.target
    elif entry.kind == FILE:
        info.type = tarfile.REGTYPE
        info.size = len(entry.data)
    else:
        raise ImageBuildError(f"unknown entry kind {entry.kind!r} for {entry.path!r}")
    return info


def write_tar(entries: Iterable[FsEntry]) -> bytes:
    """A tar of the entries (parents added, sorted) in GNU format."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for entry in with_parents(entries):
            info = _info(entry)
            archive.addfile(info, io.BytesIO(entry.data) if entry.kind == FILE else None)
    return buffer.getvalue()
