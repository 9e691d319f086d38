"""How a listed pod's state becomes "ask it", "pending" or "unreachable", and how ages print."""

from __future__ import annotations

import pytest

from akash_snp.status.fake_apiserver import pod
from akash_snp.status.listing import injected_pod
from akash_snp.status.rendering import age_text


@pytest.mark.parametrize(
    ("phase", "state", "running", "starting", "why"),
    [
        ("Running", {"running": {}}, True, False, "running"),
        ("Pending", {"waiting": {"reason": "ContainerCreating"}}, False, True, "ContainerCreating"),
        ("Pending", {"waiting": {"reason": "ErrImagePull"}}, False, False, "ErrImagePull"),
        ("Running", {"terminated": {"reason": "Error"}}, False, False, "Error"),
        ("Succeeded", {"terminated": {}}, False, False, "terminated"),
        ("Pending", {}, False, False, "pod Pending"),
    ],
)
def test_sidecar_state(
    phase: str, state: dict[str, dict[str, str]], running: bool, starting: bool, why: str
) -> None:
    found = injected_pod(pod("ns", "p", phase=phase, sidecar=state))
    assert found is not None
    assert (found.sidecar_running, found.starting, found.sidecar_state) == (running, starting, why)


def test_a_pod_without_status_is_starting_and_others_are_not_listed() -> None:
    bare = pod("ns", "new", phase="Pending")
    del bare["status"]["initContainerStatuses"]
    found = injected_pod(bare)
    assert found is not None
    assert (found.starting, found.sidecar_state) == (True, "pod Pending, no sev-attestation "
                                                      "container status")
    assert injected_pod(pod("ns", "plain", injected=False)) is None


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (59.9, "59s"), (252, "4m12s"), (3900, "1h05m"), (2 * 86400 + 4 * 3600, "2d04h")],
)
def test_age_text(seconds: float, text: str) -> None:
    assert age_text(seconds) == text
