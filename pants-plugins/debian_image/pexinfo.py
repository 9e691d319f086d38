"""The Python distributions inside a PEX, read from its PEX-INFO (a JSON member of the zip)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass

from debian_image.errors import ImageBuildError

_WHEEL = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)(-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl$")


@dataclass(frozen=True)
class PythonDistribution:
    """One distribution: normalised project name, version, and PEX's content fingerprint."""

    name: str
    version: str
    fingerprint: str


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pex_distributions(pex: bytes) -> list[PythonDistribution]:
    """Distributions listed in the PEX's PEX-INFO, sorted by name."""
    try:
        with zipfile.ZipFile(io.BytesIO(pex)) as archive:
            info = json.loads(archive.read("PEX-INFO"))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ImageBuildError(f"cannot read PEX-INFO from the PEX: {exc}") from None
    distributions = info.get("distributions")
    if not isinstance(distributions, dict):
        raise ImageBuildError("PEX-INFO has no 'distributions' object")
    result = []
    for filename, fingerprint in distributions.items():
        match = _WHEEL.match(str(filename))
        if match is None:
            raise ImageBuildError(f"PEX-INFO distribution {filename!r} is not a wheel file name")
        name = _normalise(match.group("name"))
        result.append(PythonDistribution(name, match.group("version"), str(fingerprint)))
    return sorted(result, key=lambda d: d.name)
