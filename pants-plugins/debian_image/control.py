"""Debian control data: deb822 stanzas, dependency fields, and the closure of `Depends`.

Pure functions over text; fetching the package index is the caller's job (see refresh_lock.py).
Versions are not compared: one suite holds one version of each package, which is the one taken.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from debian_image.errors import ImageBuildError

Stanza = dict[str, str]

_NAME = re.compile(r"^([a-z0-9][a-z0-9+.-]*)")


def parse_stanzas(text: str) -> list[Stanza]:
    """Split deb822 text (a Packages index) into field dicts; continuation lines are joined."""
    stanzas: list[Stanza] = []
    current: Stanza = {}
    field = ""
    for line in text.splitlines():
        if not line.strip():
            if current:
                stanzas.append(current)
            current, field = {}, ""
        elif line[0] in " \t":
            if not field:
                raise ImageBuildError(f"continuation line before any field: {line!r}")
            current[field] += "\n" + line.strip()
        else:
            name, sep, value = line.partition(":")
            if not sep:
                raise ImageBuildError(f"not a deb822 field line: {line!r}")
            field = name.strip()
            current[field] = value.strip()
    if current:
        stanzas.append(current)
    return stanzas


def parse_depends(value: str) -> list[list[str]]:
    """Package names of a Depends field: one list of alternatives per comma-separated clause."""
    clauses: list[list[str]] = []
    for clause in value.split(","):
        names = []
        for alternative in clause.split("|"):
            match = _NAME.match(alternative.strip())
            if match is None:
                raise ImageBuildError(f"cannot read a package name in {alternative!r}")
            names.append(match.group(1).split(":")[0])
        clauses.append(names)
    return clauses


def index_by_name(stanzas: Iterable[Stanza]) -> dict[str, Stanza]:
    """Packages by name, also under each virtual name they Provide (first provider wins)."""
    real: dict[str, Stanza] = {}
    virtual: dict[str, Stanza] = {}
    for stanza in stanzas:
        name = stanza.get("Package")
        if not name:
            raise ImageBuildError("a Packages stanza has no Package field")
        real.setdefault(name, stanza)
        for provided in parse_depends(stanza.get("Provides", "")) if stanza.get("Provides") else []:
            virtual.setdefault(provided[0], stanza)
    return {**virtual, **real}


def closure(
    index: Mapping[str, Stanza],
    roots: Iterable[str],
    data_only: Iterable[str] = (),
    exclude: Iterable[str] = (),
) -> list[Stanza]:
    """Roots plus everything they Depend/Pre-Depend on, sorted by name.

    Of alternatives, the first indexed one that is not excluded is taken. `data_only` packages are
    included but their dependencies are not followed (their files are data, not programs);
    `exclude` names are never included (maintainer-script machinery such as dpkg or debconf).
    """
    skipped = set(exclude)
    no_follow = set(data_only)
    chosen: dict[str, Stanza] = {}
    pending = [*roots, *data_only]
    while pending:
        name = pending.pop()
        stanza = index.get(name)
        if stanza is None:
            raise ImageBuildError(f"package {name!r} is not in the package index")
        real = stanza["Package"]
        if real in chosen:
            continue
        chosen[real] = stanza
        if real in no_follow:
            continue
        for field in ("Pre-Depends", "Depends"):
            for alternatives in parse_depends(stanza[field]) if stanza.get(field) else []:
                wanted = [n for n in alternatives if n not in skipped]
                if not wanted or any(index.get(n, {}).get("Package") in chosen for n in wanted):
                    continue
                present = [n for n in wanted if n in index]
                if not present:
                    raise ImageBuildError(
                        f"{real} depends on {' | '.join(wanted)}: none is indexed"
                    )
                pending.append(present[0])
    return [chosen[name] for name in sorted(chosen)]
