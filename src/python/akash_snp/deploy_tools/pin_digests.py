"""Pin image digests into the `images:` entries of kustomization files, keeping everything else.

The files are edited line by line (comments, order and layout survive, unlike a YAML round trip),
and every edit is checked by parsing the result: an `images:` list written in a shape this editor
does not understand is an error, never a silent partial pin. Reads and writes files only under
the directory it is given; knows nothing of how the images were built.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_BARE_HEX = re.compile(r"^[0-9a-f]{64}$")
_ENTRY = re.compile(r"^(?P<dash>\s*)-\s+(?P<rest>.*)$")
_KEY = re.compile(r"^(?P<indent>\s*)(?:-\s+)?(?P<key>name|digest|newTag):\s*(?P<value>.*?)\s*$")
_SCALAR = re.compile(r"^(?P<q>['\"]?)(?P<v>[^'\"#]*?)(?P=q)\s*(#.*)?$")


class PinError(ValueError):
    """A digest, a digests file or a kustomization file that cannot be pinned safely."""


def normalize_digest(name: str, value: Any) -> str:
    """``sha256:<64 lowercase hex>``; a bare 64-hex value gets the prefix."""
    if isinstance(value, Mapping) and "digest" in value:
        value = value["digest"]
    if isinstance(value, str) and _BARE_HEX.match(value):
        value = f"sha256:{value}"
    if not isinstance(value, str) or not _DIGEST.match(value):
        raise PinError(f"image {name!r}: {value!r} is not a digest like sha256:<64 hex digits>")
    return value


def parse_digests(text: str) -> dict[str, str]:
    """A JSON object mapping image name to digest (or to an object with a ``digest`` field)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PinError(f"the digests file is not JSON: {exc}") from exc
    if not isinstance(data, dict) or not data:
        raise PinError("the digests file must be a non-empty JSON object: image name -> digest")
    return {str(name): normalize_digest(str(name), value) for name, value in data.items()}


@dataclass
class _Entry:
    """One item of an `images:` list: where its name and digest lines are."""

    first: int
    key_indent: str
    name: str | None = None
    name_line: int | None = None
    digest_line: int | None = None
    has_new_tag: bool = False


def _scalar(raw: str, where: str) -> str:
    match = _SCALAR.match(raw)
    if not match:
        raise PinError(f"{where}: cannot read the value {raw!r}")
    return match.group("v").strip()


def _image_entries(lines: list[str], where: str) -> list[_Entry]:
    """The entries of the top-level block-style `images:` list."""
    try:
        start = next(i for i, line in enumerate(lines) if re.match(r"^images:\s*(#.*)?$", line))
    except StopIteration:
        return []
    entries: list[_Entry] = []
    for index in range(start + 1, len(lines)):
        line = lines[index]
        if line.strip() == "" or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace() and not line.startswith("-"):
            break  # the next top-level key
        entry = _ENTRY.match(line)
        if entry:
            indent = " " * (len(entry.group("dash")) + 2)
            entries.append(_Entry(first=index, key_indent=indent))
        if not entries:
            raise PinError(f"{where}:{index + 1}: `images:` must be a block list (`- name: ...`)")
        key = _KEY.match(line)
        if not key:
            continue
        current = entries[-1]
        if key.group("key") == "name":
            current.name = _scalar(key.group("value"), f"{where}:{index + 1}")
            current.name_line = index
        elif key.group("key") == "digest":
            current.digest_line = index
        else:
            current.has_new_tag = True
    return entries


def _pinned(text: str, where: str) -> dict[str, str | None]:
    """Image name -> digest of the `images:` entries, as kustomize will read them."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PinError(f"{where} is not valid YAML: {exc}") from exc
    images = data.get("images") if isinstance(data, dict) else None
    if images is None:
        return {}
    if not isinstance(images, list) or not all(isinstance(i, dict) for i in images):
        raise PinError(f"{where}: `images:` must be a list of mappings")
    return {str(i.get("name")): i.get("digest") for i in images}


def rewrite_images(text: str, digests: Mapping[str, str], where: str) -> tuple[str, set[str]]:
    """``text`` with the digest of every listed image set; also the names that were found."""
    lines = text.splitlines(keepends=True)
    found: set[str] = set()
    inserts: list[tuple[int, str]] = []
    for entry in _image_entries(lines, where):
        if entry.name is None or entry.name_line is None:
            raise PinError(f"{where}:{entry.first + 1}: an `images:` entry has no name")
        if entry.name not in digests:
            continue
        if entry.has_new_tag:
            raise PinError(f"{where}: image {entry.name!r} has newTag: remove it, the digest pins")
        found.add(entry.name)
        new_line = f"{entry.key_indent}digest: {digests[entry.name]}\n"
        if entry.digest_line is not None:
            old = lines[entry.digest_line]
            prefix = old[: old.index("digest:")]
            lines[entry.digest_line] = f"{prefix}digest: {digests[entry.name]}\n"
        else:
            inserts.append((entry.name_line + 1, new_line))
    for position, line in sorted(inserts, reverse=True):
        lines.insert(position, line)
    result = "".join(lines)
    for name, digest in _pinned(result, where).items():
        if name in digests and digest != digests[name]:
            raise PinError(f"{where}: image {name!r} could not be pinned (unexpected layout)")
    return result, found


def kustomization_files(root: Path) -> list[Path]:
    """Every kustomization file below ``root``, in a stable order."""
    if not root.is_dir():
        raise PinError(f"{root} is not a directory (expected deploy/kustomize)")
    return sorted(root.rglob("kustomization.yaml"))


def pin_tree(root: Path, digests: Mapping[str, str]) -> list[Path]:
    """Pin ``digests`` in every kustomization below ``root``; return the files that changed.

    Nothing is written unless every image name was found in at least one file (a typo in a
    name must not leave the overlays half pinned).
    """
    changes: dict[Path, str] = {}
    found: set[str] = set()
    for path in kustomization_files(root):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PinError(f"cannot read {path}: {exc}") from exc
        new_text, names = rewrite_images(text, digests, str(path))
        found |= names
        if new_text != text:
            changes[path] = new_text
    missing = sorted(set(digests) - found)
    if missing:
        raise PinError(f"no `images:` entry under {root} names {', '.join(missing)}")
    for path, new_text in changes.items():
        path.write_text(new_text, encoding="utf-8")
    return sorted(changes)
