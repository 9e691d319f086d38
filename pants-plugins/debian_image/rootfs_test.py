from __future__ import annotations

import pytest

from debian_image.errors import ImageBuildError
from debian_image.fsentry import DIRECTORY, FILE, SYMLINK, FsEntry
from debian_image.rootfs import CA_BUNDLE, base_rootfs, ca_bundle, merge_packages

CERTS = [
    FsEntry("usr/share/ca-certificates/mozilla/B.crt", FILE, 0o644, b"B"),
    FsEntry("usr/share/ca-certificates/mozilla/A.crt", FILE, 0o644, b"A\n"),
    FsEntry("usr/share/ca-certificates/mozilla/README", FILE, 0o644, b"not a cert"),
]
PYTHON = [
    FsEntry("usr", DIRECTORY, 0o755),
    FsEntry("usr/bin/python3.11", FILE, 0o755, b"ELF"),
    FsEntry("usr/share/doc/python3.11/copyright", FILE, 0o644, b"text"),
    FsEntry("usr/share/man/man1/python3.11.1.gz", FILE, 0o644, b"man"),
    FsEntry("usr/share/locale/de/LC_MESSAGES/x.mo", FILE, 0o644, b"mo"),
]


def test_ca_bundle_concatenates_certificates_in_path_order_with_newlines() -> None:
    assert ca_bundle(CERTS) == b"A\nB\n"
    with pytest.raises(ImageBuildError, match="no CA certificates"):
        ca_bundle(PYTHON)


def test_merge_packages_drops_documentation_and_refuses_conflicting_files() -> None:
    merged = merge_packages([("python", PYTHON), ("other", [FsEntry("usr", DIRECTORY, 0o700)])])
    assert [e.path for e in merged] == ["usr", "usr/bin/python3.11"]
    assert merged[0].mode == 0o755
    clash = [FsEntry("usr/bin/python3.11", FILE, 0o755, b"other")]
    with pytest.raises(ImageBuildError, match="differs between python and clash"):
        merge_packages([("python", PYTHON), ("clash", clash)])


def test_base_rootfs_adds_accounts_bundle_and_sticky_tmp() -> None:
    entries = {
        e.path: e for e in base_rootfs([("python", PYTHON), ("ca", CERTS)], "nonroot", 65532)
    }
    assert b"nonroot:x:65532:65532::/home/nonroot:/nonexistent\n" in entries["etc/passwd"].data
    assert entries["etc/group"].data == b"root:x:0:\nnonroot:x:65532:\n"
    assert entries[CA_BUNDLE].data == b"A\nB\n"
    assert entries["usr/lib/ssl/cert.pem"] == FsEntry(
        "usr/lib/ssl/cert.pem", SYMLINK, 0o777, target="/" + CA_BUNDLE
    )
    assert entries["tmp"].mode == 0o1777
    assert not any(p.startswith("usr/share/ca-certificates") for p in entries)


def test_base_rootfs_refuses_a_shell() -> None:
    shell = [FsEntry("bin/sh", SYMLINK, 0o777, target="dash")]
    with pytest.raises(ImageBuildError, match="shell or package manager"):
        base_rootfs([("python", PYTHON), ("ca", CERTS), ("dash", shell)], "nonroot", 65532)
