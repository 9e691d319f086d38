from __future__ import annotations

import json
from pathlib import Path

import pytest

from debian_image.errors import ImageBuildError
from debian_image.lock import Lock, LockedPackage, parse_lock, render_lock

SHA = "ab" * 32


def _lock_text(**package_overrides: object) -> str:
    package = {
        "name": "zlib1g",
        "version": "1:1.2.13.dfsg-1",
        "path": "pool/main/z/zlib/zlib1g_1.2.13.dfsg-1_amd64.deb",
        "sha256": SHA,
        "size": 10,
        **package_overrides,
    }
    return json.dumps({"suite": "bookworm", "architecture": "amd64", "packages": [package]})


def test_render_then_parse_gives_the_same_lock() -> None:
    lock = Lock(
        suite="bookworm",
        architecture="amd64",
        roots=("python3.11-minimal",),
        data_only=("ca-certificates",),
        exclude=("dpkg",),
        packages=(
            LockedPackage("b", "2", "pool/main/b/b_2_all.deb", SHA, 5),
            LockedPackage("a", "1", "pool/main/a/a_1_all.deb", SHA, 4),
        ),
    )
    text = render_lock(lock, ["generated"])
    parsed = parse_lock(text)
    assert [p.name for p in parsed.packages] == ["a", "b"]
    assert parsed.roots == lock.roots
    assert parsed.exclude == lock.exclude
    assert render_lock(parsed, ["generated"]) == text


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"sha256": "00"}, "not 64 hex digits"),
        ({"path": "http://mirror.example/pool/main/z/z.deb"}, "not a pool/"),
        ({"path": "pool/../../etc/passwd.deb"}, "not a pool/"),
        ({"size": 0}, "must be positive"),
        ({"size": "ten"}, "incomplete"),
    ],
)
def test_parse_lock_refuses_bad_package_entries(override: dict[str, object], message: str) -> None:
    with pytest.raises(ImageBuildError, match=message):
        parse_lock(_lock_text(**override))


def test_parse_lock_refuses_duplicates_empty_and_non_json() -> None:
    twice = json.loads(_lock_text())
    twice["packages"] *= 2
    with pytest.raises(ImageBuildError, match="twice"):
        parse_lock(json.dumps(twice))
    with pytest.raises(ImageBuildError, match="no packages"):
        parse_lock('{"packages": []}')
    assert parse_lock('{"roots": ["a"]}', require_packages=False).roots == ("a",)
    with pytest.raises(ImageBuildError, match="not JSON"):
        parse_lock("{")
    bad_digest = json.loads(_lock_text())
    bad_digest["base_layer_sha256"] = "abc"
    with pytest.raises(ImageBuildError, match="base_layer_sha256"):
        parse_lock(json.dumps(bad_digest))


def test_the_repository_lock_is_valid_and_names_no_mirror_host() -> None:
    path = Path(__file__).resolve().parents[2] / "images" / "debian-packages.lock.json"
    text = path.read_text()
    lock = parse_lock(text)
    assert "://" not in text
    assert len(lock.base_layer_sha256) == 64
    assert {"python3.11-minimal", "libpython3.11-stdlib", "ca-certificates"} <= {
        p.name for p in lock.packages
    }
    assert not {"bash", "dash", "dpkg", "apt", "perl-base"} & {p.name for p in lock.packages}
