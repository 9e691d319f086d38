"""configfs-tsm report provider (Linux >= 6.7, Documentation/ABI/testing/configfs-tsm).

One directory per request under the report root: write ``privlevel`` (VMPL 0) and ``inblob``
(REPORT_DATA), read ``outblob`` (report) and ``auxblob`` (certificate table), check ``generation``
did not move while we read, then remove the directory. File access goes through ``ConfigfsOps``
so tests can stand in a directory tree that behaves like the kernel's.
"""

from __future__ import annotations

import errno
import itertools
import logging
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from akash_snp.guest.provider import (
    REQUESTED_VMPL,
    FirmwareBusy,
    GuestError,
    GuestReport,
    ProviderUnavailable,
    busy_pauses,
    check_report_data,
)

DEFAULT_REPORT_ROOT = Path("/sys/kernel/config/tsm/report")
EXPECTED_TSM_PROVIDER = "sev_guest"
_RETRYABLE_ERRNOS = frozenset({errno.EBUSY, errno.EAGAIN, errno.EINTR})


class ConfigfsOps(Protocol):
    """The handful of filesystem calls the provider makes (the kernel's configfs in production)."""

    def mkdir(self, path: Path) -> None: ...

    def rmdir(self, path: Path) -> None: ...

    def read(self, path: Path) -> bytes: ...

    def write(self, path: Path, data: bytes) -> None: ...


class OsConfigfsOps:
    """Real configfs access. Each write is one ``write(2)``: configfs commits a binary attribute
    when the file is closed, and a text attribute must arrive in one piece."""

    def mkdir(self, path: Path) -> None:
        os.mkdir(path)

    def rmdir(self, path: Path) -> None:
        os.rmdir(path)

    def read(self, path: Path) -> bytes:
        return path.read_bytes()

    def write(self, path: Path, data: bytes) -> None:
        fd = os.open(path, os.O_WRONLY)
        try:
            written = os.write(fd, data)
        finally:
            os.close(fd)
        if written != len(data):
            raise OSError(errno.EIO, f"short write to {path}: {written} of {len(data)} bytes")


_counter = itertools.count()
_log = logging.getLogger(__name__)


class ConfigfsTsmProvider:
    """Ask the firmware through configfs-tsm; see the module docstring for the protocol."""

    name = "configfs-tsm"

    def __init__(
        self,
        root: Path = DEFAULT_REPORT_ROOT,
        ops: ConfigfsOps | None = None,
        busy_deadline: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._root = root
        self._ops = ops or OsConfigfsOps()
        self._busy_deadline = busy_deadline
        self._sleep = sleep

    def check_available(self) -> None:
        """Raise ``ProviderUnavailable`` unless the report root exists."""
        if not self._root.is_dir():
            raise ProviderUnavailable(
                f"configfs-tsm report root {self._root} does not exist "
                "(needs Linux >= 6.7 with configfs mounted)"
            )

    def get_report(self, report_data: bytes) -> GuestReport:
        data = check_report_data(report_data)
        self.check_available()
        pauses = busy_pauses(self._busy_deadline, first=0.25)
        while True:
            try:
                return self._one_request(data)
            except OSError as error:
                if error.errno not in _RETRYABLE_ERRNOS:
                    raise GuestError(f"configfs-tsm request failed: {error}") from error
                pause = next(pauses, None)
                if pause is None:
                    raise FirmwareBusy(
                        f"configfs-tsm stayed busy for {self._busy_deadline:g} s: {error}"
                    ) from error
                self._sleep(pause)

    def _one_request(self, data: bytes) -> GuestReport:
        entry = self._root / f"akash-snp-{os.getpid()}-{next(_counter)}-{secrets.token_hex(4)}"
        self._ops.mkdir(entry)
        try:
            tsm = self._ops.read(entry / "provider").decode("ascii", "replace").strip()
            if tsm != EXPECTED_TSM_PROVIDER:
                raise ProviderUnavailable(
                    f"configfs-tsm provider is {tsm!r}, not {EXPECTED_TSM_PROVIDER!r} (not SEV-SNP)"
                )
            self._ops.write(entry / "privlevel", f"{REQUESTED_VMPL}\n".encode())
            self._ops.write(entry / "inblob", data)
            generation = self._read_generation(entry)
            report = self._ops.read(entry / "outblob")
            cert_table = self._read_optional(entry / "auxblob")
            after = self._read_generation(entry)
            if after != generation:
                raise GuestError(
                    f"configfs-tsm generation moved from {generation} to {after} while reading "
                    f"{entry.name}: another writer raced us; report discarded"
                )
            if not report:
                raise GuestError("configfs-tsm returned an empty outblob")
            return GuestReport(report=report, cert_table=cert_table, provider=self.name)
        finally:
            try:
                self._ops.rmdir(entry)
            except OSError as error:
                _log.warning("could not remove configfs-tsm entry %s: %s", entry, error)

    def _read_generation(self, entry: Path) -> int:
        raw = self._ops.read(entry / "generation").decode("ascii", "replace").strip()
        try:
            return int(raw)
        except ValueError:
            raise GuestError(f"configfs-tsm generation is not a number: {raw!r}") from None

    def _read_optional(self, path: Path) -> bytes:
        try:
            return self._ops.read(path)
        except FileNotFoundError:
            return b""
