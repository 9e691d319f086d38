"""A PEX installed at build time: its wheels' files and its first-party code merged into one
site-packages directory, plus a launcher script, so the container runs the program directly.

Nothing unpacks when a container starts (a PEX would extract itself into a writable PEX_ROOT on
every start of every pod), the root file system can stay read-only, and the bytecode is compiled
once at build time (see rules.py). The PEX's own bootstrap, its console scripts (`.prefix/`) and
its metadata are left out: the launcher imports the entry point itself.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
import zipfile
from dataclasses import dataclass

from debian_image.errors import ImageBuildError
from debian_image.fsentry import FILE, FsEntry

SITE_PACKAGES = "app/site-packages"
BIN_DIR = "app/bin"
PYTHON_VERSION = "3.11"
PYTHON = f"/usr/bin/python{PYTHON_VERSION}"
STDLIB = f"usr/lib/python{PYTHON_VERSION}"

_DEPS = ".deps/"
_SKIPPED_TOP = (".bootstrap/", "__pex__/", ".prefix/")
_SKIPPED_FILES = {"PEX-INFO", "__main__.py"}
_ENTRY_POINT = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


@dataclass(frozen=True)
class InstalledPex:
    """The files to lay under SITE_PACKAGES (paths relative to the image root) and the entry
    point (`module:function`) the launcher calls."""

    entry_point: str
    files: tuple[FsEntry, ...]


def _site_path(name: str) -> str | None:
    """Where a PEX member goes under site-packages, or None when it is not installed."""
    if name.endswith("/") or name in _SKIPPED_FILES or name.startswith(_SKIPPED_TOP):
        return None
    if "__pycache__/" in name or name.endswith(".pyc"):
        return None
    if name.startswith(_DEPS):
        _, _, inside = name[len(_DEPS) :].partition("/")
        if not inside or inside == ".layout.json" or inside.startswith(".prefix/"):
            return None
        return f"{SITE_PACKAGES}/{inside}"
    return f"{SITE_PACKAGES}/{name}"


def install_pex(pex: bytes) -> InstalledPex:
    """The site-packages files of `pex` and its entry point; two wheels that ship the same path
    with different bytes are an error (a real installer would let one silently win)."""
    try:
        with zipfile.ZipFile(io.BytesIO(pex)) as archive:
            info = json.loads(archive.read("PEX-INFO"))
            members = [(m, archive.read(m)) for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ImageBuildError(f"cannot read the PEX: {exc}") from None
    entry_point = info.get("entry_point")
    if not isinstance(entry_point, str) or not _ENTRY_POINT.match(entry_point):
        raise ImageBuildError(f"the PEX's entry_point {entry_point!r} is not 'module:function'")
    files: dict[str, FsEntry] = {}
    for member, data in members:
        path = _site_path(member.filename)
        if path is None:
            continue
        mode = 0o755 if (member.external_attr >> 16) & 0o111 else 0o644
        entry = FsEntry(path, FILE, mode, data)
        previous = files.get(path)
        if previous is not None and previous.data != data:
            raise ImageBuildError(
                f"two distributions in the PEX ship {path!r} with different bytes"
            )
        files[path] = entry
    return InstalledPex(entry_point, tuple(files[p] for p in sorted(files)))


def stdlib_sources(base_tar: bytes) -> tuple[FsEntry, ...]:
    """The standard library's `.py` files in the base layer: Debian compiles them in a maintainer
    script, which an image built from unpacked packages never runs, so without their bytecode
    every start of every container would compile the modules it imports (about a second)."""
    prefix = STDLIB + "/"
    with tarfile.open(fileobj=io.BytesIO(base_tar)) as archive:
        return tuple(
            FsEntry(member.name, FILE, 0o644, archive.extractfile(member).read())  # type: ignore[union-attr]
            for member in archive.getmembers()
            if member.isfile() and member.name.startswith(prefix) and member.name.endswith(".py")
        )


def launcher(name: str, entry_point: str) -> FsEntry:
    """`/app/bin/<name>`: runs the entry point with the image's CPython in isolated mode (-I: no
    environment PYTHON* variables, user site or working directory on sys.path) without writing
    bytecode (-B: the root file system is read-only and the bytecode is already compiled)."""
    module, _, function = entry_point.partition(":")
    script = (
        f"#!{PYTHON} -IB\n"
        "import sys\n"
        f"sys.path.insert(0, {'/' + SITE_PACKAGES!r})\n"
        f"from {module} import {function}\n"
        f"sys.exit({function}())\n"
    )
    return FsEntry(f"{BIN_DIR}/{name}", FILE, 0o755, script.encode())
