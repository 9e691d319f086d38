"""One file-system entry of an image layer, independent of where it came from."""

from __future__ import annotations

from dataclasses import dataclass

FILE = "file"
DIRECTORY = "dir"
SYMLINK = "symlink"


@dataclass(frozen=True)
class FsEntry:
    """A path (relative, no leading slash) with its kind, permission bits and content.

    Ownership and times are not recorded: every layer entry is owned by 0:0 with mtime 0, so the
    only per-entry facts that reach the image are these.
    """

    path: str
    kind: str
    mode: int
    data: bytes = b""
    target: str = ""
