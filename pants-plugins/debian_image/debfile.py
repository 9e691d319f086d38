"""Read a Debian binary package (.deb): the `ar` archive and the files of its data.tar.

Maintainer scripts (control.tar) are ignored on purpose: the image is assembled from package data
only, with no dpkg database and no package manager inside.
"""

from __future__ import annotations

import io
import lzma
import tarfile
import zlib

from debian_image.errors import ImageBuildError
from debian_image.fsentry import DIRECTORY, FILE, SYMLINK, FsEntry

_AR_MAGIC = b"!<arch>\n"
_AR_HEADER = 60


def ar_members(data: bytes) -> dict[str, bytes]:
    """Members of a common-format `ar` archive by name (what dpkg-deb writes)."""
    if not data.startswith(_AR_MAGIC):
        raise ImageBuildError("not a Debian package: the ar magic is missing")
    members: dict[str, bytes] = {}
    offset = len(_AR_MAGIC)
    while offset < len(data):
        header = data[offset : offset + _AR_HEADER]
        if len(header) < _AR_HEADER or header[58:60] != b"`\n":
            raise ImageBuildError(f"not a Debian package: bad ar header at byte {offset}")
        name = header[0:16].decode("ascii", "replace").strip().rstrip("/")
        try:
            size = int(header[48:58].decode("ascii").strip())
        except ValueError:
            raise ImageBuildError(f"not a Debian package: bad ar size at byte {offset}") from None
        start = offset + _AR_HEADER
        if start + size > len(data):
            raise ImageBuildError(f"not a Debian package: ar member {name!r} is truncated")
        members[name] = data[start : start + size]
        offset = start + size + (size % 2)
    return members


def _decompress(name: str, blob: bytes) -> bytes:
    try:
        if name.endswith(".xz"):
            return lzma.decompress(blob)
        if name.endswith(".gz"):
            return zlib.decompress(blob, 16 + zlib.MAX_WBITS)
    except (lzma.LZMAError, zlib.error) as exc:
        raise ImageBuildError(f"cannot decompress {name}: {exc}") from None
    if name.endswith(".tar"):
        return blob
    raise ImageBuildError(f"{name}: unsupported compression (xz, gz or none are read)")


def data_tar(deb: bytes) -> bytes:
    """The uncompressed data.tar of a .deb."""
    members = ar_members(deb)
    if members.get("debian-binary", b"").strip() != b"2.0":
        raise ImageBuildError("not a Debian 2.0 binary package")
    names = [n for n in members if n.startswith("data.tar")]
    if len(names) != 1:
        raise ImageBuildError(f"expected one data.tar member, found {sorted(members)}")
    return _decompress(names[0], members[names[0]])


def _normalise(name: str) -> str:
    path = name[2:] if name.startswith("./") else name.lstrip("/")
    path = path.rstrip("/")
    if any(part in ("..",) for part in path.split("/")):
        raise ImageBuildError(f"package path {name!r} leaves the root")
    return path


def deb_entries(deb: bytes) -> list[FsEntry]:
    """Files, directories and symlinks of a .deb's data, hard links resolved to file copies."""
    entries: list[FsEntry] = []
    contents: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data_tar(deb)), mode="r:") as archive:
        for member in archive.getmembers():
            path = _normalise(member.name)
            if not path:
                continue
            mode = member.mode & 0o7777
            if member.isdir():
                entries.append(FsEntry(path, DIRECTORY, mode))
            elif member.issym():
                entries.append(FsEntry(path, SYMLINK, 0o777, target=member.linkname))
            elif member.islnk():
                source = _normalise(member.linkname)
                if source not in contents:
                    raise ImageBuildError(f"hard link {path!r} to unknown {member.linkname!r}")
                entries.append(FsEntry(path, FILE, mode, contents[source]))
            elif member.isfile():
                extracted = archive.extractfile(member)
                data = extracted.read() if extracted is not None else b""
                contents[path] = data
                entries.append(FsEntry(path, FILE, mode, data))
            else:
                raise ImageBuildError(f"package entry {path!r} is neither file, dir nor link")
    return entries
