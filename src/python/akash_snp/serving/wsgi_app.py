"""What the services' plain WSGI applications (webhook, sidecar) share: their types, and how an
error message echoes a request path."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

ECHOED_PATH_CHARS = 64


def shown_path(path: str) -> str:
    """A request path short enough to echo in an error message: a client may send 100 KB."""
    if len(path) <= ECHOED_PATH_CHARS:
        return path
    return f"{path[:ECHOED_PATH_CHARS]}... ({len(path)} characters)"
