from __future__ import annotations

import io
import random
import tarfile

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from debian_image.errors import ImageBuildError
from debian_image.fsentry import DIRECTORY, FILE, SYMLINK, FsEntry
from debian_image.tarlayer import with_parents, write_tar

ENTRIES = [
    FsEntry("usr/bin/python3.11", FILE, 0o755, b"\x7fELF"),
    FsEntry("tmp", DIRECTORY, 0o1777),
    FsEntry("lib64/ld-linux-x86-64.so.2", SYMLINK, 0o777, target="/lib/ld.so"),
    FsEntry("a-b", FILE, 0o644, b"x"),
    FsEntry("a/" + "long" * 40, FILE, 0o600, b"long name"),
]


def test_write_tar_is_ordered_owned_by_root_and_timeless() -> None:
    with tarfile.open(fileobj=io.BytesIO(write_tar(ENTRIES))) as archive:
        members = archive.getmembers()
        names = [m.name for m in members]
        assert names == sorted(names)
        assert names[:3] == ["a", "a-b", "a/" + "long" * 40]
        assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, 0, "", "")}
        assert not any(m.pax_headers for m in members)
        by_name = {m.name: m for m in members}
        assert by_name["tmp"].isdir()
        assert by_name["tmp"].mode == 0o1777
        assert by_name["lib64/ld-linux-x86-64.so.2"].linkname == "/lib/ld.so"
        assert by_name["usr"].isdir()
        assert by_name["usr"].mode == 0o755
        extracted = archive.extractfile(by_name["usr/bin/python3.11"])
        assert extracted is not None
        assert extracted.read() == b"\x7fELF"


def test_with_parents_refuses_duplicates_and_paths_under_files() -> None:
    with pytest.raises(ImageBuildError, match="given twice"):
        with_parents([FsEntry("a", FILE, 0o644), FsEntry("a", FILE, 0o644)])
    with pytest.raises(ImageBuildError, match="which is a file"):
        with_parents([FsEntry("a", FILE, 0o644), FsEntry("a/b", FILE, 0o644)])


_names = st.lists(
    st.text(alphabet="abc-_.", min_size=1, max_size=4).filter(lambda s: s not in (".", "..")),
    min_size=1,
    max_size=3,
).map("/".join)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(_names, st.binary(max_size=8), min_size=1, max_size=8), st.randoms())
def test_write_tar_depends_on_the_entries_not_their_order(
    files: dict[str, bytes], rng: random.Random
) -> None:
    assume(not any(p.startswith(q + "/") for p in files for q in files))
    entries = [FsEntry(p, FILE, 0o644, d) for p, d in files.items()]
    shuffled = list(entries)
    rng.shuffle(shuffled)
    assert write_tar(entries) == write_tar(shuffled)
