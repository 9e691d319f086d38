from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from debian_image import fakes
from debian_image.assemble import base_layer
from debian_image.errors import ImageBuildError
from debian_image.lock import Lock, LockedPackage
from debian_image.refresh_lock import locked_packages, machine_mirror, resolve, with_base_digest

INDEX = """\
Package: python3.11-minimal
Version: 3.11.2-6+deb12u8
Depends: libc6
Filename: pool/main/p/python3.11/python3.11-minimal_3.11.2-6+deb12u8_amd64.deb
Size: 100
SHA256: {a}

Package: libc6
Version: 2.36-9
Filename: pool/main/g/glibc/libc6_2.36-9_amd64.deb
Size: 200
SHA256: {b}
""".format(a="a" * 64, b="b" * 64)


def test_machine_mirror_reads_deb822_then_one_line_sources_skipping_security(
    tmp_path: Path,
) -> None:
    parts = tmp_path / "sources.list.d"
    parts.mkdir()
    (parts / "debian.sources").write_text(
        "Types: deb\nURIs: http://security.example/debian-security\n\n"
        "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n"
    )
    assert machine_mirror(parts, tmp_path / "missing") == "http://mirror.example/debian"
    (parts / "debian.sources").unlink()
    one_line = tmp_path / "sources.list"
    one_line.write_text("deb [signed-by=/k.gpg] http://other.example/debian bookworm main\n")
    assert machine_mirror(parts, one_line) == "http://other.example/debian"
    one_line.write_text("# nothing\n")
    with pytest.raises(ImageBuildError, match="pass --mirror"):
        machine_mirror(parts, one_line)


def test_resolve_pins_the_closure_from_the_index() -> None:
    lock = Lock("bookworm", "amd64", ("python3.11-minimal",), (), (), ())
    resolved = resolve(lock, INDEX)
    assert [(p.name, p.version, p.size) for p in resolved.packages] == [
        ("libc6", "2.36-9", 200),
        ("python3.11-minimal", "3.11.2-6+deb12u8", 100),
    ]
    assert resolved.packages[0].sha256 == "b" * 64
    assert resolved.roots == lock.roots
    assert resolved.base_layer_sha256 == ""


def test_locked_packages_refuses_stanzas_without_checksums() -> None:
    with pytest.raises(ImageBuildError, match="lacks"):
        locked_packages([{"Package": "x", "Version": "1", "Filename": "pool/x.deb", "Size": "1"}])


def test_with_base_digest_records_the_digest_of_the_base_layer() -> None:
    debs = {"ca-certificates": fakes.deb({"usr/share/ca-certificates/a/A.crt": b"A\n"})}
    data = debs["ca-certificates"]
    package = LockedPackage(
        "ca-certificates",
        "1",
        "pool/main/c/ca_1_all.deb",
        hashlib.sha256(data).hexdigest(),
        len(data),
    )
    lock = Lock("bookworm", "amd64", (), (), (), (package,), base_layer_sha256="0" * 64)
    recorded = with_base_digest(lock, debs)
    assert recorded.base_layer_sha256 == hashlib.sha256(base_layer(recorded, debs)).hexdigest()
    assert recorded.packages == lock.packages
