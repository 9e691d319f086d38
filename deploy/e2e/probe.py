#!/usr/bin/env python3
"""Measurements for the cluster end-to-end test (deploy/e2e/e2e.sh), through `kubectl proxy`.

Standard library only: it runs with the machine's python3 inside the kit's network namespace.

  probe.py admit --namespace NS --seconds S [--interval N]
      Sends server-side dry-run pod creations (the API server calls the webhook exactly as for a
      real pod) back to back for S seconds; counts rejections and, with --interval, checks that
      every injected sidecar carries --interval=N. Prints one JSON line; exit 1 on any rejection
      or wrong setting.
  probe.py pod-timing --namespace NS --manifest FILE
      Creates the pod in FILE and watches it: milliseconds from the create call to Running, to the
      sidecar's start and to Ready. Prints one JSON line.
  probe.py start-timing --namespace NS --selector SEL --count N [--seconds S]
      Polls every 50 ms for pods matching SEL that did not exist when it started, until N of them
      are Ready: for each, milliseconds from its container being seen running to Ready.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from typing import Any

PROXY = "http://127.0.0.1:8001"
SIDECAR = "sev-attestation"


def _call(method: str, path: str, body: Any = None, timeout: float = 30.0) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - PROXY is kubectl proxy on loopback
        PROXY + path, data=data, method=method
    )
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, json.loads(exc.read())
        except ValueError:
            return exc.code, {"message": "non-JSON error"}


def _tenant_pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": name,
            "labels": {"akash.network": "true", "akash.network/manifest-service": "web"},
        },
        "spec": {
            "containers": [
                {
                    "name": "web",
                    "image": "localhost/busybox:local",
                    "imagePullPolicy": "Never",
                    "command": ["httpd", "-f", "-p", "8080"],
                }
            ]
        },
    }


def _sidecar(pod: dict[str, Any]) -> dict[str, Any] | None:
    spec = pod.get("spec", {})
    found = [
        c for c in spec.get("initContainers", []) + spec.get("containers", [])
        if c.get("name") == SIDECAR
    ]
    return found[0] if len(found) == 1 else None


def admit(namespace: str, seconds: float, interval: int | None) -> int:
    """Dry-run pod creations for `seconds`; every one must be admitted with the sidecar."""
    path = f"/api/v1/namespaces/{namespace}/pods?dryRun=All"
    total, rejected, wrong = 0, 0, 0
    errors: list[str] = []
    settings: dict[str, int] = {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        total += 1
        status, answer = _call("POST", path, _tenant_pod("dry-run-"))
        if status != 201:
            rejected += 1
            if len(errors) < 5:
                errors.append(f"HTTP {status}: {answer.get('message', '')[:300]}")
            continue
        sidecar = _sidecar(answer)
        args = [a for a in (sidecar or {}).get("args", []) if a.startswith("--interval=")]
        seen = args[0] if args else "no sidecar"
        settings[seen] = settings.get(seen, 0) + 1
        if sidecar is None or (interval is not None and seen != f"--interval={interval}"):
            wrong += 1
    result = {
        "admissions": total,
        "rejected": rejected,
        "wrong_settings": wrong,
        "settings_seen": settings,
        "errors": errors,
        "per_second": round(total / seconds, 1),
    }
    print(json.dumps(result))
    return 1 if rejected or wrong or total == 0 else 0


def _ready(pod: dict[str, Any]) -> bool:
    conditions = pod.get("status", {}).get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def _sidecar_started(pod: dict[str, Any]) -> bool:
    statuses = pod.get("status", {}).get("initContainerStatuses", [])
    return any(s["name"] == SIDECAR and "running" in s.get("state", {}) for s in statuses)


def pod_timing(namespace: str, manifest: str, timeout: float = 60.0) -> int:
    """Create the pod, then poll it every 50 ms until Ready."""
    with open(manifest, encoding="utf-8") as handle:
        pod = json.load(handle)
    start = time.monotonic()
    status, created = _call("POST", f"/api/v1/namespaces/{namespace}/pods", pod)
    if status != 201:
        print(json.dumps({"error": f"HTTP {status}: {created.get('message')}"}))
        return 1
    name = created["metadata"]["name"]
    marks: dict[str, float] = {}
    while time.monotonic() - start < timeout and "ready_ms" not in marks:
        _, live = _call("GET", f"/api/v1/namespaces/{namespace}/pods/{name}")
        now = round((time.monotonic() - start) * 1000)
        if "sidecar_started_ms" not in marks and _sidecar_started(live):
            marks["sidecar_started_ms"] = now
        if "running_ms" not in marks and live.get("status", {}).get("phase") == "Running":
            marks["running_ms"] = now
        if _ready(live):
            marks["ready_ms"] = now
        time.sleep(0.05)
    print(json.dumps({"pod": name, **marks}))
    return 0 if "ready_ms" in marks else 1


def start_timing(namespace: str, selector: str, count: int, seconds: float) -> int:
    """Container seen running -> pod Ready, for `count` new pods (e.g. during a rollout)."""
    path = f"/api/v1/namespaces/{namespace}/pods?labelSelector={selector}"
    _, listing = _call("GET", path)
    old = {p["metadata"]["uid"] for p in listing.get("items", [])}
    running: dict[str, float] = {}
    ready: dict[str, float] = {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(ready) < count:
        _, listing = _call("GET", path)
        now = time.monotonic()
        for pod in listing.get("items", []):
            uid = pod["metadata"]["uid"]
            statuses = pod.get("status", {}).get("containerStatuses", [])
            if uid in old or not statuses:
                continue
            if uid not in running and all("running" in s.get("state", {}) for s in statuses):
                running[uid] = now
            if uid in running and uid not in ready and _ready(pod):
                ready[uid] = now
        time.sleep(0.05)
    start_to_ready = sorted(round((ready[u] - running[u]) * 1000) for u in ready)
    print(json.dumps({"pods": len(ready), "start_to_ready_ms": start_to_ready}))
    return 0 if len(ready) >= count else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser("admit")
    a.add_argument("--namespace", required=True)
    a.add_argument("--seconds", type=float, required=True)
    a.add_argument("--interval", type=int)
    t = sub.add_parser("pod-timing")
    t.add_argument("--namespace", required=True)
    t.add_argument("--manifest", required=True)
    r = sub.add_parser("start-timing")
    r.add_argument("--namespace", required=True)
    r.add_argument("--selector", required=True)
    r.add_argument("--count", type=int, required=True)
    r.add_argument("--seconds", type=float, default=120.0)
    args = parser.parse_args(argv)
    if args.command == "admit":
        return admit(args.namespace, args.seconds, args.interval)
    if args.command == "start-timing":
        return start_timing(args.namespace, args.selector, args.count, args.seconds)
    return pod_timing(args.namespace, args.manifest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
