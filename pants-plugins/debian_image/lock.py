"""The Debian package lock: which package set an image is made of, pinned by version and SHA-256.

Only the pool path inside a Debian mirror is stored, never a mirror host: the mirror comes from the
machine's apt configuration at build time, and the SHA-256 makes any mirror equally trustworthy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from debian_image.errors import ImageBuildError

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_POOL_PATH = re.compile(r"^pool/[A-Za-z0-9+._~/-]+\.deb$")


@dataclass(frozen=True)
class LockedPackage:
    """One .deb: where it lies under a mirror, and what it must hash to."""

    name: str
    version: str
    path: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Lock:
    """The resolution inputs (roots, data_only, exclude), their pinned result (packages), and the
    SHA-256 of the base layer they give (checked at every build: proves machine independence)."""

    suite: str
    architecture: str
    roots: tuple[str, ...]
    data_only: tuple[str, ...]
    exclude: tuple[str, ...]
    packages: tuple[LockedPackage, ...]
    base_layer_sha256: str = ""


def _strings(data: dict[str, object], key: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ImageBuildError(f"lock field {key!r} must be a list of strings, got {value!r}")
    return tuple(value)


def _package(entry: object) -> LockedPackage:
    if not isinstance(entry, dict):
        raise ImageBuildError(f"lock package entry must be an object, got {entry!r}")
    try:
        package = LockedPackage(
            name=str(entry["name"]),
            version=str(entry["version"]),
            path=str(entry["path"]),
            sha256=str(entry["sha256"]),
            size=int(entry["size"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ImageBuildError(f"lock package entry {entry!r} is incomplete: {exc}") from None
    if not _SHA256.match(package.sha256):
        raise ImageBuildError(f"{package.name}: sha256 {package.sha256!r} is not 64 hex digits")
    if not _POOL_PATH.match(package.path) or ".." in package.path.split("/"):
        raise ImageBuildError(f"{package.name}: path {package.path!r} is not a pool/... .deb path")
    if package.size <= 0:
        raise ImageBuildError(f"{package.name}: size {package.size} must be positive")
    return package


def parse_lock(text: str, require_packages: bool = True) -> Lock:
    """Read and check a lock file's JSON text (a new lock may list roots but no packages yet)."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ImageBuildError(f"the Debian package lock is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ImageBuildError("the Debian package lock must be a JSON object")
    packages = data.get("packages", [])
    if not isinstance(packages, list) or (require_packages and not packages):
        raise ImageBuildError("the Debian package lock lists no packages")
    parsed = tuple(_package(p) for p in packages)
    names = [p.name for p in parsed]
    if len(set(names)) != len(names):
        raise ImageBuildError(f"the Debian package lock names a package twice: {names}")
    base_digest = str(data.get("base_layer_sha256", ""))
    if base_digest and not _SHA256.match(base_digest):
        raise ImageBuildError(f"base_layer_sha256 {base_digest!r} is not 64 hex digits")
    return Lock(
        suite=str(data.get("suite", "")),
        architecture=str(data.get("architecture", "")),
        roots=_strings(data, "roots"),
        data_only=_strings(data, "data_only"),
        exclude=_strings(data, "exclude"),
        packages=tuple(sorted(parsed, key=lambda p: p.name)),
        base_layer_sha256=base_digest,
    )


def render_lock(lock: Lock, comment: Sequence[str]) -> str:
    """The lock as stable JSON text (sorted packages, fixed key order, trailing newline)."""
    data = {
        "comment": list(comment),
        "suite": lock.suite,
        "architecture": lock.architecture,
        "roots": list(lock.roots),
        "data_only": list(lock.data_only),
        "exclude": list(lock.exclude),
        "base_layer_sha256": lock.base_layer_sha256,
        "packages": [
            {
                "name": p.name,
                "version": p.version,
                "path": p.path,
                "sha256": p.sha256,
                "size": p.size,
            }
            for p in sorted(lock.packages, key=lambda p: p.name)
        ],
    }
    return json.dumps(data, indent=2) + "\n"
