from __future__ import annotations

import json

from debian_image.lock import LockedPackage
from debian_image.pexinfo import PythonDistribution
from debian_image.sbom import spdx_document

DEBS = [
    LockedPackage(
        "zlib1g", "1:1.2.13.dfsg-1", "pool/main/z/zlib/zlib1g_1.2.13.dfsg-1_amd64.deb", "a" * 64, 9
    ),
    LockedPackage(
        "libc6", "2.36-9+deb12u14", "pool/main/g/glibc/libc6_2.36_amd64.deb", "b" * 64, 9
    ),
]
DISTS = [PythonDistribution("flask", "3.1.3", "f" * 40)]


def _document() -> dict[str, object]:
    text = spdx_document("sev-webhook", "sha256:" + "c" * 64, "amd64", "12", DEBS, DISTS)
    document = json.loads(text)
    assert isinstance(document, dict)
    return document


def test_spdx_document_lists_image_debian_packages_and_python_distributions() -> None:
    document = _document()
    assert document["spdxVersion"] == "SPDX-2.3"
    packages = document["packages"]
    assert isinstance(packages, list)
    assert [p["name"] for p in packages] == ["sev-webhook", "libc6", "zlib1g", "flask"]
    purls = [p["externalRefs"][0]["referenceLocator"] for p in packages]
    assert purls[1] == "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=debian-12"
    assert purls[2] == "pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64&distro=debian-12"
    assert purls[3] == "pkg:pypi/flask@3.1.3"
    assert packages[2]["checksums"] == [{"algorithm": "SHA256", "checksumValue": "a" * 64}]
    relationships = document["relationships"]
    assert isinstance(relationships, list)
    assert len(relationships) == 1 + 3
    assert {r["relatedSpdxElement"] for r in relationships[1:]} == {
        p["SPDXID"] for p in packages[1:]
    }


def test_spdx_document_is_deterministic() -> None:
    assert _document() == _document()
    text = spdx_document("x", "sha256:" + "c" * 64, "amd64", "12", DEBS, DISTS)
    assert text == spdx_document("x", "sha256:" + "c" * 64, "amd64", "12", DEBS[::-1], DISTS)
