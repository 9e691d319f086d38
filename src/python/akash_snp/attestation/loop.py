"""The periodic attestation loop: attest now, then every ``interval`` seconds with jitter (so the
pods of one node do not all ask the firmware at the same moment). Never raises."""

from __future__ import annotations

import logging
import random
import threading

from akash_snp.attestation.attestor import Attestor
from akash_snp.attestation.state import LastResult
from akash_snp.attestation.timefmt import rfc3339, utc_now

_log = logging.getLogger(__name__)


def next_delay(interval: float, jitter: float, rng: random.Random) -> float:
    """``interval`` scaled by a uniform factor in [1 - jitter, 1 + jitter]."""
    return interval * (1.0 + rng.uniform(-jitter, jitter))


class AttestationLoop:
    """A daemon thread keeping ``LastResult`` up to date."""

    def __init__(
        self,
        attestor: Attestor,
        last: LastResult,
        interval: float,
        jitter: float = 0.1,
        rng: random.Random | None = None,
    ) -> None:
        self._attestor = attestor
        self._last = last
        self._interval = interval
        self._jitter = jitter
        self._rng = rng or random.Random()  # noqa: S311 - scheduling jitter, not a secret
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="attestation-loop", daemon=True)

    def run_once(self) -> None:
        """One periodic attestation; failures are logged and stored as a status."""
        try:
            self._last.set(self._attestor.attest_periodic(rfc3339(utc_now())))
        except Exception:  # the loop must survive anything
            _log.exception("periodic attestation raised")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            self.run_once()
            if self._stop.wait(next_delay(self._interval, self._jitter, self._rng)):
                return
