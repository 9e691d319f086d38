"""Refresh images/debian-packages.lock.json: resolve its roots against the Debian suite's current
package index and pin every package of the closure by version, pool path, SHA-256 and size.

Run: ./pants run pants-plugins/debian_image/refresh_lock.py -- images/debian-packages.lock.json
The index is fetched with apt-get under a private configuration (own lists directory, no change to
/etc/apt) from the machine's Debian mirror, or from --mirror. The packages are then downloaded
(checked against their SHA-256) to record the digest of the base layer they give; with
--digest-only the pinned packages are kept and only that digest is recorded again (after an
intended change to the image builder).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import re
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from debian_image.assemble import base_layer
from debian_image.control import Stanza, closure, index_by_name, parse_stanzas
from debian_image.errors import ImageBuildError
from debian_image.lock import Lock, LockedPackage, parse_lock, render_lock

KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
COMMENT = (
    "Debian packages of the container images (pants-plugins/debian_image). Generated: edit only",
    "roots, data_only and exclude, then run",
    "./pants run pants-plugins/debian_image/refresh_lock.py -- images/debian-packages.lock.json",
)


def machine_mirror(sources_dir: Path, sources_list: Path) -> str:
    """The first non-security Debian mirror in the machine's apt sources (deb822 or one-line)."""
    candidates: list[str] = []
    for path in sorted(sources_dir.glob("*.sources")):
        candidates += re.findall(r"^URIs:\s*(\S+)", path.read_text(), flags=re.MULTILINE)
    if sources_list.exists():
        candidates += re.findall(
            r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)", sources_list.read_text(), flags=re.MULTILINE
        )
    for uri in candidates:
        if "-security" not in uri:
            return uri
    raise ImageBuildError(f"no Debian mirror in {sources_dir} or {sources_list}; pass --mirror")


def locked_packages(stanzas: Sequence[Stanza]) -> tuple[LockedPackage, ...]:
    """Lock entries for resolved index stanzas."""
    packages = []
    for stanza in stanzas:
        try:
            packages.append(
                LockedPackage(
                    name=stanza["Package"],
                    version=stanza["Version"],
                    path=stanza["Filename"],
                    sha256=stanza["SHA256"],
                    size=int(stanza["Size"]),
                )
            )
        except (KeyError, ValueError) as exc:
            raise ImageBuildError(f"index stanza {stanza.get('Package')!r} lacks {exc}") from None
    return tuple(packages)


def resolve(lock: Lock, index_text: str) -> Lock:
    """The lock with its packages re-resolved from a Packages index."""
    index = index_by_name(parse_stanzas(index_text))
    chosen = closure(index, lock.roots, lock.data_only, lock.exclude)
    return dataclasses.replace(lock, packages=locked_packages(chosen), base_layer_sha256="")


def download(mirror: str, lock: Lock) -> dict[str, bytes]:
    """Each locked package from the mirror (the build checks them against the lock)."""
    debs = {}
    for package in lock.packages:
        url = f"{mirror.rstrip('/')}/{package.path}"
        with urllib.request.urlopen(url, timeout=120) as answer:  # noqa: S310 (the Debian mirror)
            debs[package.name] = answer.read()
    return debs


def with_base_digest(lock: Lock, debs: dict[str, bytes]) -> Lock:
    """The lock with the SHA-256 of the base layer its packages give."""
    unrecorded = dataclasses.replace(lock, base_layer_sha256="")
    digest = hashlib.sha256(base_layer(unrecorded, debs)).hexdigest()
    return dataclasses.replace(lock, base_layer_sha256=digest)


def fetch_index(mirror: str, suite: str, architecture: str) -> str:
    """The suite's main Packages index, fetched and decompressed by apt under a private config."""
    with tempfile.TemporaryDirectory(prefix="debian-lock-") as tmp:
        work = Path(tmp)
        (work / "lists" / "partial").mkdir(parents=True)
        sources = work / "sources.list"
        sources.write_text(f"deb [signed-by={KEYRING} arch={architecture}] {mirror} {suite} main\n")
        options = [
            f"Dir::Etc::SourceList={sources}",
            "Dir::Etc::SourceParts=/dev/null",
            f"Dir::State::Lists={work / 'lists'}",
            "Dir::Cache::pkgcache=",
            "Dir::Cache::srcpkgcache=",
            "Debug::NoLocking=1",
            "Acquire::Languages=none",
            f"APT::Architecture={architecture}",
        ]
        flags = [arg for option in options for arg in ("-o", option)]
        subprocess.run(["apt-get", *flags, "-q", "update"], check=True, capture_output=True)
        lists = sorted(
            (work / "lists").glob(f"*_dists_{suite}_main_binary-{architecture}_Packages*")
        )
        if not lists:
            raise ImageBuildError(f"apt fetched no {suite}/main {architecture} Packages index")
        helper = subprocess.run(
            ["/usr/lib/apt/apt-helper", "cat-file", str(lists[0])], check=True, capture_output=True
        )
        return helper.stdout.decode()


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite the lock file in place; print what changed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lock", type=Path, help="the lock file (roots are read from it)")
    parser.add_argument("--mirror", help="Debian mirror base URL (default: the machine's apt one)")
    parser.add_argument(
        "--digest-only",
        action="store_true",
        help="keep the pinned packages; only record the base layer digest again",
    )
    args = parser.parse_args(argv)
    try:
        old = parse_lock(args.lock.read_text(), require_packages=False)
        mirror = args.mirror or machine_mirror(
            Path("/etc/apt/sources.list.d"), Path("/etc/apt/sources.list")
        )
        if args.digest_only:
            new = old
        else:
            new = resolve(old, fetch_index(mirror, old.suite, old.architecture))
        new = with_base_digest(new, download(mirror, new))
    except (ImageBuildError, OSError, subprocess.CalledProcessError) as exc:
        print(f"refresh_lock: {exc}", file=sys.stderr)
        return 1
    before = {p.name: p.version for p in old.packages}
    for package in new.packages:
        if before.get(package.name) != package.version:
            print(f"{package.name}: {before.get(package.name, '-')} -> {package.version}")
    for name in sorted(set(before) - {p.name for p in new.packages}):
        print(f"{name}: removed")
    args.lock.write_text(render_lock(new, COMMENT))
    print(f"{args.lock}: {len(new.packages)} packages, base layer sha256 {new.base_layer_sha256}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
