from __future__ import annotations

import pytest

from debian_image.control import closure, index_by_name, parse_depends, parse_stanzas
from debian_image.errors import ImageBuildError

INDEX = """\
Package: app
Version: 1
Pre-Depends: libc6 (>= 2.35)
Depends: libfoo:any (= 1), media-types | mime-support, dpkg (>= 1.15) | install-info,
 libbar

Package: libc6
Version: 2.36
Depends: libgcc-s1

Package: libgcc-s1
Version: 12

Package: libfoo
Version: 1

Package: libbar-real
Version: 3
Provides: libbar

Package: mime-support
Version: 1

Package: media-types
Version: 10

Package: certs
Version: 1
Depends: openssl

Package: dpkg
Version: 1
"""


def test_parse_stanzas_joins_continuation_lines() -> None:
    stanzas = parse_stanzas(INDEX)
    assert [s["Package"] for s in stanzas][:3] == ["app", "libc6", "libgcc-s1"]
    assert stanzas[0]["Depends"].endswith("install-info,\nlibbar")


@pytest.mark.parametrize("text", ["no colon here\n", " continuation first\n"])
def test_parse_stanzas_refuses_malformed_text(text: str) -> None:
    with pytest.raises(ImageBuildError):
        parse_stanzas(text)


def test_parse_depends_drops_versions_and_architecture_qualifiers() -> None:
    assert parse_depends("libfoo:any (= 1), a | b (>> 2) [amd64], c") == [
        ["libfoo"],
        ["a", "b"],
        ["c"],
    ]


def test_parse_depends_refuses_garbage() -> None:
    with pytest.raises(ImageBuildError, match="package name"):
        parse_depends("libfoo, (>= 1)")


def test_closure_follows_depends_first_alternative_and_provides() -> None:
    index = index_by_name(parse_stanzas(INDEX))
    chosen = closure(index, ["app"], data_only=["certs"], exclude=["dpkg", "install-info"])
    assert [s["Package"] for s in chosen] == [
        "app",
        "certs",
        "libbar-real",
        "libc6",
        "libfoo",
        "libgcc-s1",
        "media-types",
    ]


def test_closure_skips_an_alternative_already_chosen() -> None:
    index = index_by_name(parse_stanzas(INDEX))
    chosen = closure(index, ["app", "mime-support"], exclude=["dpkg", "install-info"])
    assert "media-types" not in [s["Package"] for s in chosen]


def test_closure_refuses_an_unknown_root() -> None:
    with pytest.raises(ImageBuildError, match="'nope' is not in the package index"):
        closure(index_by_name(parse_stanzas(INDEX)), ["nope"])


def test_closure_refuses_an_unresolvable_dependency() -> None:
    index = index_by_name(parse_stanzas(INDEX))
    with pytest.raises(ImageBuildError, match="openssl: none is indexed"):
        closure(index, ["certs"])
