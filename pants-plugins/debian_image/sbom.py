"""An SPDX 2.3 JSON document for an image: its Debian packages and the Python distributions in its
PEX. Deterministic (fixed creation time, sorted packages) so it can be compared between builds."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from urllib.parse import quote

from debian_image.lock import LockedPackage
from debian_image.oci import EPOCH
from debian_image.pexinfo import PythonDistribution

_NOASSERTION = "NOASSERTION"


def _spdx_id(kind: str, name: str) -> str:
    return f"SPDXRef-{kind}-" + re.sub(r"[^A-Za-z0-9.-]", "-", name)


def _package(spdx_id: str, name: str, version: str, purl: str) -> dict[str, object]:
    return {
        "SPDXID": spdx_id,
        "name": name,
        "versionInfo": version,
        "downloadLocation": _NOASSERTION,
        "filesAnalyzed": False,
        "licenseConcluded": _NOASSERTION,
        "licenseDeclared": _NOASSERTION,
        "copyrightText": _NOASSERTION,
        "externalRefs": [
            {
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": purl,
            }
        ],
    }


def spdx_document(
    image_name: str,
    manifest_digest: str,
    architecture: str,
    debian_release: str,
    debian_packages: Sequence[LockedPackage],
    python_distributions: Sequence[PythonDistribution],
) -> str:
    """The SPDX JSON text (indented, trailing newline)."""
    image_id = _spdx_id("Image", image_name)
    packages: list[dict[str, object]] = [
        {
            **_package(
                image_id,
                image_name,
                manifest_digest,
                f"pkg:oci/{quote(image_name)}@{quote(manifest_digest)}?arch={architecture}",
            ),
            "primaryPackagePurpose": "CONTAINER",
        }
    ]
    for deb in sorted(debian_packages, key=lambda p: p.name):
        purl = (
            f"pkg:deb/debian/{quote(deb.name)}@{quote(deb.version)}"
            f"?arch={architecture}&distro=debian-{debian_release}"
        )
        entry = _package(_spdx_id("deb", deb.name), deb.name, deb.version, purl)
        entry["supplier"] = "Organization: Debian"
        entry["checksums"] = [{"algorithm": "SHA256", "checksumValue": deb.sha256}]
        entry["packageFileName"] = deb.path.rsplit("/", 1)[-1]
        packages.append(entry)
    for dist in sorted(python_distributions, key=lambda d: d.name):
        purl = f"pkg:pypi/{quote(dist.name)}@{quote(dist.version)}"
        entry = _package(_spdx_id("pypi", dist.name), dist.name, dist.version, purl)
        entry["comment"] = f"installed from the PEX; PEX fingerprint {dist.fingerprint}"
        packages.append(entry)
    relationships = [
        {
            "spdxElementId": "SPDXRef-DOCUMENT",
            "relationshipType": "DESCRIBES",
            "relatedSpdxElement": image_id,
        }
    ] + [
        {
            "spdxElementId": image_id,
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": p["SPDXID"],
        }
        for p in packages[1:]
    ]
    document = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"{image_name}@{manifest_digest}",
        "documentNamespace": f"urn:akash-snp:image:{image_name}:{manifest_digest}",
        "creationInfo": {"created": EPOCH, "creators": ["Tool: akash-snp debian_image"]},
        "packages": packages,
        "relationships": relationships,
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
