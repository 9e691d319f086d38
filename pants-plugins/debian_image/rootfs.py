"""The base root file system: the data of the locked packages, trimmed, plus users and a CA bundle.

What is left out on purpose: documentation, manual pages, locales, maintainer scripts, the dpkg
database, and any shell or package manager (none is in the package set; `forbid_paths` checks).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from debian_image.errors import ImageBuildError
from debian_image.fsentry import DIRECTORY, FILE, SYMLINK, FsEntry

# Trees dropped from every package: text for humans, the CA certificates after bundling, glibc's
# iconv modules (8 MB; CPython's codecs are its own and OpenSSL does not call iconv) and the
# interactive help() topics.
DROPPED_TREES = (
    "usr/lib/x86_64-linux-gnu/gconv",
    "usr/lib/python3.11/pydoc_data",
    "usr/share/doc",
    "usr/share/doc-base",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
    "usr/share/lintian",
    "usr/share/bug",
    "usr/share/gdb",
    "usr/share/ca-certificates",
    "usr/sbin/update-ca-certificates",
    "etc/ca-certificates",
)
CA_SOURCE_TREE = "usr/share/ca-certificates/"
CA_BUNDLE = "etc/ssl/certs/ca-certificates.crt"
# Paths that must not exist in the image: shells and package managers.
FORBIDDEN = ("bin/sh", "usr/bin/sh", "bin/bash", "usr/bin/bash", "usr/bin/dpkg", "usr/bin/apt")


def _dropped(path: str) -> bool:
    return any(path == tree or path.startswith(tree + "/") for tree in DROPPED_TREES)


def ca_bundle(entries: Iterable[FsEntry]) -> bytes:
    """The packages' own CA certificates concatenated in path order (as update-ca-certificates)."""
    certs = sorted(
        (e for e in entries if e.kind == FILE and e.path.startswith(CA_SOURCE_TREE)),
        key=lambda e: e.path,
    )
    certs = [e for e in certs if e.path.endswith(".crt")]
    if not certs:
        raise ImageBuildError(
            f"no CA certificates under /{CA_SOURCE_TREE}: is ca-certificates locked?"
        )
    return b"".join(e.data if e.data.endswith(b"\n") else e.data + b"\n" for e in certs)


def merge_packages(packages: Sequence[tuple[str, Sequence[FsEntry]]]) -> list[FsEntry]:
    """One tree from several packages' entries; the same file from two packages must agree."""
    merged: dict[str, tuple[str, FsEntry]] = {}
    for name, entries in packages:
        for entry in entries:
            if _dropped(entry.path):
                continue
            seen = merged.get(entry.path)
            if seen is not None and entry.kind != DIRECTORY and seen[1] != entry:
                raise ImageBuildError(f"/{entry.path} differs between {seen[0]} and {name}")
            if seen is None or entry.kind != DIRECTORY:
                merged[entry.path] = (name, entry)
    return [merged[path][1] for path in sorted(merged)]


def accounts(user_name: str, uid: int) -> list[FsEntry]:
    """/etc/passwd and /etc/group with root and one unprivileged user (no login shell)."""
    passwd = (
        "root:x:0:0:root:/root:/nonexistent\n"
        f"{user_name}:x:{uid}:{uid}::/home/{user_name}:/nonexistent\n"
    )
    group = f"root:x:0:\n{user_name}:x:{uid}:\n"
    return [
        FsEntry("etc/passwd", FILE, 0o644, passwd.encode()),
        FsEntry("etc/group", FILE, 0o644, group.encode()),
        FsEntry("root", DIRECTORY, 0o700),
        FsEntry(f"home/{user_name}", DIRECTORY, 0o755),
    ]


def base_rootfs(
    packages: Sequence[tuple[str, Sequence[FsEntry]]], user_name: str, uid: int
) -> list[FsEntry]:
    """The base layer's entries: merged package data, CA bundle, accounts and a sticky /tmp."""
    everything = [e for _, entries in packages for e in entries]
    tree = merge_packages(packages)
    extra = [
        *accounts(user_name, uid),
        FsEntry(CA_BUNDLE, FILE, 0o644, ca_bundle(everything)),
        # Python's ssl module looks for OpenSSL's default bundle; without the openssl package it
        # would be missing, so point it at the packages' bundle.
        FsEntry("usr/lib/ssl/cert.pem", SYMLINK, 0o777, target="/" + CA_BUNDLE),
        FsEntry("tmp", DIRECTORY, 0o1777),
    ]
    extra_paths = {e.path for e in extra}
    result = [e for e in tree if e.path not in extra_paths] + extra
    present = [p for p in FORBIDDEN if any(e.path == p for e in result)]
    if present:
        raise ImageBuildError(f"the package set brings a shell or package manager: {present}")
    return sorted(result, key=lambda e: e.path)
