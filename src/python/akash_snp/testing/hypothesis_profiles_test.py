"""The Hypothesis profile follows ``CI``: derandomized and database-free on CI runs."""

from __future__ import annotations

import os

from hypothesis import settings

from akash_snp.testing.hypothesis_profiles import CI, DEV, profile_for


def test_ci_selects_the_ci_profile() -> None:
    assert profile_for({"CI": "true"}) == CI
    assert profile_for({"CI": ""}) == DEV
    assert profile_for({}) == DEV


def test_the_active_profile_matches_the_environment() -> None:
    """Under CI (pants.toml passes ``CI`` through) every property test replays the same cases."""
    active = settings()
    if os.environ.get("CI"):
        assert active.derandomize
        assert active.database is None
        assert active.print_blob
    else:
        assert not active.derandomize
    assert active.deadline == settings.get_profile(profile_for(os.environ)).deadline
