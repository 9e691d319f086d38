"""``sev-status`` end to end against a fake API server on loopback (the kubernetes client reads a
kubeconfig naming it), with real sidecar answers from the sidecar's own app."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from akash_snp.status import listing
from akash_snp.status.fake_apiserver import (
    TOKEN,
    FakeApiServer,
    Reply,
    SidecarFactory,
    pod,
    status_reply,
)
from akash_snp.status.main import main

Serve = Callable[[FakeApiServer], Path]


def run(kubeconfig: Path, *argv: str) -> int:
    return main(["--kubeconfig", str(kubeconfig), *argv], sleep=lambda _: None)


def rows_by_pod(out: str) -> dict[str, dict[str, object]]:
    return {row["pod"]: row for row in json.loads(out)["pods"]}


@pytest.fixture()
def cluster(make_sidecar: SidecarFactory) -> FakeApiServer:
    """One pod per status, an opted-out pod, and pods whose sidecar is not running."""
    waiting = {"waiting": {"reason": "CrashLoopBackOff"}}
    return FakeApiServer(
        pods=[
            pod("lease-a", "verified-0"),
            pod("lease-a", "failed-0"),
            pod("lease-a", "unavailable-0", node="node-2"),
            pod("lease-b", "pending-0"),
            pod("lease-b", "no-listener-0"),
            pod("lease-b", "crashing-0", sidecar=waiting),
            pod("lease-b", "creating-0", phase="Pending",
                sidecar={"waiting": {"reason": "ContainerCreating"}}),
            pod("lease-b", "opted-out", injected=False),
            pod("kube-system", "coredns-0", injected=False),
        ],
        sidecars={
            "lease-a/verified-0": make_sidecar("verified"),
            "lease-a/failed-0": make_sidecar("failed"),
            "lease-a/unavailable-0": make_sidecar("unavailable"),
            "lease-b/pending-0": make_sidecar("pending"),
            "lease-b/crashing-0": make_sidecar("verified"),  # never asked: not running
        },
    )


def test_every_status_in_the_table(
    cluster: FakeApiServer, serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(serve(cluster), "-A") == 1
    out = capsys.readouterr().out
    print(out)  # the table, for the record (pytest -s)
    lines = out.splitlines()
    assert lines[0].split() == [
        "NAMESPACE", "POD", "NODE", "STATUS", "PRODUCT", "TCB", "AGE", "REASON"
    ]
    cells = {line.split()[1]: line.split() for line in lines[1:-1]}
    assert sorted(cells) == sorted(
        ["verified-0", "failed-0", "unavailable-0", "pending-0", "no-listener-0", "crashing-0",
         "creating-0"]
    )
    assert cells["verified-0"][3:5] == ["verified", "Genoa"]
    assert cells["verified-0"][5].startswith("bl=")
    assert cells["failed-0"][3] == "failed"
    assert "ark_trusted:" in lines[[c.split()[1] for c in lines].index("failed-0")]
    assert cells["unavailable-0"][2:4] == ["node-2", "unavailable"]
    assert cells["pending-0"][3] == "pending"
    assert cells["no-listener-0"][3] == "unreachable"
    assert cells["crashing-0"][3] == "unreachable"
    assert cells["creating-0"][3] == "pending"
    assert lines[-1] == (
        "7 injected pods: 1 failed, 2 pending, 1 unavailable, 2 unreachable, 1 verified"
    )
    assert cluster.tokens == {f"Bearer {TOKEN}"}
    assert cluster.proxied == 5  # sidecars that are not running are not asked


def test_json_rows_carry_reasons(
    cluster: FakeApiServer, serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(serve(cluster), "-A", "--json") == 1
    document = json.loads(capsys.readouterr().out)
    assert document["counts"] == {
        "failed": 1, "pending": 2, "unreachable": 2, "unavailable": 1, "verified": 1
    }
    rows = {row["pod"]: row for row in document["pods"]}
    verified = rows["verified-0"]
    assert (verified["status"], verified["reason"]) == ("verified", "")
    assert verified["product"] == "Genoa"
    assert verified["tcb"].startswith("bl=")
    assert 0 <= verified["age_seconds"] < 60
    assert rows["failed-0"]["reason"].startswith("ark_trusted: ")
    assert "no SEV-SNP guest interface" in rows["unavailable-0"]["reason"]
    assert rows["pending-0"]["reason"] == "no attestation has completed yet"
    assert "connection refused" in rows["no-listener-0"]["reason"]
    assert rows["crashing-0"]["reason"] == "sidecar not running: CrashLoopBackOff"
    assert rows["creating-0"]["reason"] == "sidecar not running: ContainerCreating"
    assert rows["creating-0"]["last_verification"] is None


def test_one_namespace_all_verified_exits_zero(
    cluster: FakeApiServer, serve: Serve, make_sidecar: SidecarFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cluster.pods.append(pod("lease-c", "web-0"))
    cluster.sidecars["lease-c/web-0"] = make_sidecar("verified")
    assert run(serve(cluster), "-n", "lease-c", "--json") == 0
    assert list(rows_by_pod(capsys.readouterr().out)) == ["web-0"]


def test_no_injected_pod_is_not_an_error(serve: Serve, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(serve(FakeApiServer(pods=[pod("x", "plain", injected=False)])), "-A") == 0
    assert capsys.readouterr().out.strip() == "0 injected pods"


def test_a_slow_sidecar_is_unreachable_within_the_timeout(
    serve: Serve, make_sidecar: SidecarFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    slow = make_sidecar("verified")
    fake = FakeApiServer(
        pods=[pod("l", "slow"), pod("l", "quick")],
        sidecars={"l/slow": lambda n: Reply(200, slow(n).body, delay=5),
                  "l/quick": make_sidecar("verified")},
    )
    started = time.monotonic()
    assert run(serve(fake), "-n", "l", "--json", "--timeout", "0.5") == 1
    assert time.monotonic() - started < 4
    rows = rows_by_pod(capsys.readouterr().out)
    assert rows["slow"]["status"] == "unreachable"
    assert "timed out" in str(rows["slow"]["reason"]).lower()
    assert rows["quick"]["status"] == "verified"


@pytest.mark.parametrize("length", [True, False], ids=["content-length", "until-close"])
def test_an_oversized_answer_is_refused(
    length: bool, serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    huge = b'{"attestation_status": "verified", "pad": "' + b"x" * (2 << 20) + b'"}'
    fake = FakeApiServer(pods=[pod("l", "huge")], sidecars={"l/huge": lambda _: Reply(
        200, huge, length=length)})
    assert run(serve(fake), "-n", "l", "--json") == 1
    row = rows_by_pod(capsys.readouterr().out)["huge"]
    assert row["status"] == "unreachable"
    assert "larger than the cap" in str(row["reason"])


def test_concurrency_is_bounded_and_progress_is_shown(
    serve: Serve, make_sidecar: SidecarFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    body = make_sidecar("verified")(None).body
    names = [f"web-{i}" for i in range(24)]
    fake = FakeApiServer(
        pods=[pod("l", name) for name in names],
        sidecars={f"l/{name}": lambda _: Reply(200, body, delay=0.1) for name in names},
    )
    assert run(serve(fake), "-A", "--json", "--concurrency", "4") == 0
    captured = capsys.readouterr()
    assert len(rows_by_pod(captured.out)) == 24
    assert fake.peak_in_flight == 4
    assert "asked 24/24 sidecars" in captured.err


def test_pods_are_listed_page_by_page(
    serve: Serve, make_sidecar: SidecarFactory, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    verified = make_sidecar("verified")
    pods = [pod("l", f"p{i}", injected=i % 2 == 0) for i in range(7)]
    fake = FakeApiServer(pods=pods, sidecars={f"l/p{i}": verified for i in range(7)})
    assert run(serve(fake), "-A", "--json") == 0
    assert sorted(rows_by_pod(capsys.readouterr().out)) == ["p0", "p2", "p4", "p6"]


def test_fresh_verifies_a_nonce_bound_answer_here(
    serve: Serve, make_sidecar: SidecarFactory, genoa_ark: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The emulated sidecar says "failed" for itself (it does not trust the emulated root), but
    --fresh does not trust the sidecar: with --trust-ark the fresh report verifies here."""
    fake = FakeApiServer(pods=[pod("l", "web")], sidecars={"l/web": make_sidecar("failed")})
    kubeconfig = serve(fake)
    assert run(kubeconfig, "-A", "--json", "--fresh", "--offline", "--trust-ark",
               str(genoa_ark)) == 0
    row = rows_by_pod(capsys.readouterr().out)["web"]
    assert (row["status"], row["fresh"], row["product"]) == ("verified", True, "Genoa")
    assert run(kubeconfig, "-A", "--json", "--fresh", "--offline") == 1
    assert str(rows_by_pod(capsys.readouterr().out)["web"]["reason"]).startswith("ark_trusted")


def test_fresh_rejects_a_replayed_answer(
    serve: Serve, make_sidecar: SidecarFactory, genoa_ark: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A sidecar that ignores the nonce and returns its old report fails the nonce binding."""
    old = make_sidecar("verified")(None)
    fake = FakeApiServer(pods=[pod("l", "web")], sidecars={"l/web": lambda _: old})
    args = ("-A", "--json", "--fresh", "--offline", "--trust-ark", str(genoa_ark))
    assert run(serve(fake), *args) == 1
    row = rows_by_pod(capsys.readouterr().out)["web"]
    assert row["status"] == "failed"
    assert str(row["reason"]).startswith("policy.nonce: ")


def test_fresh_on_a_rate_limited_sidecar_is_unreachable(
    serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    limited = Reply(429, b'{"error": "rate limited", "retry_after_seconds": 3}')
    fake = FakeApiServer(pods=[pod("l", "web")], sidecars={"l/web": lambda _: limited})
    assert run(serve(fake), "-A", "--json", "--fresh") == 1
    row = rows_by_pod(capsys.readouterr().out)["web"]
    assert (row["status"], "rate-limiting" in str(row["reason"])) == ("unreachable", True)


def test_a_refused_list_exits_two(serve: Serve, capsys: pytest.CaptureFixture[str]) -> None:
    message = 'pods is forbidden: User "system:serviceaccount:x:y" cannot list resource "pods"'
    fake = FakeApiServer(pods=[], list_reply=status_reply(403, message))
    assert run(serve(fake), "-A") == 2
    assert "HTTP 403: pods is forbidden" in capsys.readouterr().err


def test_unusable_input_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path / "missing", "-A") == 2
    assert "kubeconfig" in capsys.readouterr().err
    assert main(["-A", "-n", "x"]) == 2  # one namespace or all, not both
    assert main(["-A", "--concurrency", "0"]) == 2


def test_watch_refreshes(
    cluster: FakeApiServer, serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(serve(cluster), "-n", "lease-a", "--watch", "2", "--count", "3") == 1
    out = capsys.readouterr().out
    assert out.count("UTC, every 2 s") == 3
    assert out.count("3 injected pods: 1 failed, 1 unavailable, 1 verified") == 3


def test_three_hundred_pods_in_seconds(
    serve: Serve, make_sidecar: SidecarFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    """A large lease cluster: 300 injected pods among 600, two pages; prints the time taken."""
    body = make_sidecar("verified")(None).body
    pods = [pod(f"lease-{i % 30}", f"web-{i}", injected=i % 2 == 0) for i in range(600)]
    sidecars = {f"lease-{i % 30}/web-{i}": (lambda _: Reply(200, body)) for i in range(600)}
    kubeconfig = serve(FakeApiServer(pods=pods, sidecars=sidecars))
    started = time.monotonic()
    assert run(kubeconfig, "-A", "--json", "--quiet") == 0
    elapsed = time.monotonic() - started
    assert len(rows_by_pod(capsys.readouterr().out)) == 300
    with capsys.disabled():
        print(f"\nsev-status: 300 injected pods of 600 in {elapsed:.2f} s")
    assert elapsed < 30
