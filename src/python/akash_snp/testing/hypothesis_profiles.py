"""Hypothesis profiles, registered once for every test suite (loaded by the root conftest.py).

``ci`` makes property tests reproducible on the shared 2-core CI machine: the same examples on
every run (derandomized, no example database to carry between runs), a reproduction blob on
failure, and a deadline loose enough for a busy machine while still catching a hung example.
``dev`` keeps Hypothesis' random search (and its local database) for everyday runs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta

from hypothesis import HealthCheck, settings

CI = "ci"
DEV = "dev"

# Data generation competes with other jobs for the two cores: slow generation is not a failure.
_SHARED_MACHINE = settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])

settings.register_profile(
    CI,
    _SHARED_MACHINE,
    derandomize=True,
    print_blob=True,
    database=None,
    deadline=timedelta(seconds=2),
)
settings.register_profile(DEV, _SHARED_MACHINE, deadline=timedelta(seconds=1))


def profile_for(environ: Mapping[str, str]) -> str:
    """``ci`` when ``CI`` is set to a non-empty value (as CI runners and pants.toml pass it)."""
    return CI if environ.get("CI") else DEV


def load_profile() -> str:
    """Activate the profile for this process's environment; returns its name."""
    name = profile_for(os.environ)
    settings.load_profile(name)
    return name
