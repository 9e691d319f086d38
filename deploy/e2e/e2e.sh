#!/usr/bin/env bash
# End-to-end test on a real Kubernetes node: the operator path of docs/deploy.md, run as written,
# on the single-node Kubernetes 1.36 cluster of ../shared/kube (containerd, no registry, its own
# network namespace; kube.sh runs kubectl and ctr there). Needs root and dist/ from
# `./pants package ::`. Every step names the docs/deploy.md section it follows; where the kit
# differs from k3s (`kube.sh ctr` for `k3s ctr`, the kit's busybox image for a tenant image) it
# says so.
#
# Asserts: both image archives import with a plain `ctr images import` under the names and digests
# the overlays pin; the Genoa overlay (m7a) applies on a cluster without cert-manager; the sidecar
# is injected once as a native sidecar into an Akash-shaped tenant pod, which reaches Running with
# both containers ready; /verify answers "unavailable" with a reason (no SNP here) and nothing was
# created on the host; the webhook's metrics count the injection; the opt-out annotation holds; a
# rolling restart of the webhook while admissions run back to back rejects none; after a settings
# change and `rollout status`, every admission gets the new settings; the Milan overlay (m6a)
# applies over it; then the node agent at scale (deploy/e2e/scale.sh: SCALE_PODS, default 100).
# Prints the timings (benchmarks/kube-e2e/README.md records them).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

KIT="${KUBE_KIT:-$(cd ../shared/kube && pwd)}"
dist="${DIST_DIR:-dist}"
work="$(mktemp -d)"
lease="lease-e2e"
proxy_pid=""
results="$work/results.txt"
export KUBE_KIT_NODE_LABELS="sev.akash.network/instance-family=m7a"

say() { printf '[kube-e2e %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
fail() {
  printf '[kube-e2e] FAILED: %s\n' "$*" >&2
  diagnostics
  exit 1
}
k() { bash "$KIT/kube.sh" kubectl "$@"; }
kexec() { bash "$KIT/kube.sh" exec "$@"; }
record() { printf '%s\n' "$*" | tee -a "$results"; }
now_ms() { date +%s%3N; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

diagnostics() {
  set +e
  say "diagnostics:"
  k get pods -A -o wide
  k get events -A --sort-by=.lastTimestamp | tail -n 30
  k -n sev-webhook logs deploy/sev-webhook --all-containers --tail=20
  k -n sev-attestation-agent logs ds/sev-attestation-agent --tail=20
}

cleanup() {
  local rc=$?
  set +e
  [[ -n "$proxy_pid" ]] && kill "$proxy_pid" 2>/dev/null
  jobs -p | xargs -r kill 2>/dev/null
  WIPE=1 bash "$KIT/cluster-down.sh" >"$work/cluster-down.log" 2>&1 || cat "$work/cluster-down.log"
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

for archive in "$dist/images/sev-webhook.tar" "$dist/images/sev-attestation.tar" \
  "$dist/images/digests.json" "$dist/pin-digests.pex" "$dist/sev-status.pex" \
  "$dist/e2e/fake-kds.pex"; do
  [[ -f "$archive" ]] || fail "$archive is missing: run ./pants package :: first"
done

say "cluster: clean up leftovers, then start (node labelled $KUBE_KIT_NODE_LABELS, as k3s --node-label)"
bash "$KIT/cluster-down.sh" >"$work/cluster-down.log" 2>&1 || true
bash "$KIT/cluster-up.sh" >"$work/cluster-up.log" 2>&1 || { cat "$work/cluster-up.log"; fail "cluster-up"; }
# the kubelet applies --node-labels only when it registers a new node: make sure of it
k label node --all --overwrite "$KUBE_KIT_NODE_LABELS" >/dev/null

# --- docs/deploy.md section 4: pin the digests of this build, import the image archives --------
# (into a copy of deploy/kustomize, so the test leaves the checkout as it was: --kustomize-dir)
cp -r deploy/kustomize "$work/kustomize"
"$dist/pin-digests.pex" --digests "$dist/images/digests.json" \
  --kustomize-dir "$work/kustomize" >/dev/null
for name in sev-webhook sev-attestation; do
  # k3s: sudo k3s ctr images import dist/images/NAME.tar (the same ctr, k3s' containerd socket)
  bash "$KIT/kube.sh" ctr images import "$dist/images/$name.tar" >/dev/null
done
images="$(kexec sh -c 'cri-local -r unix://$CONTAINERD_ADDRESS images')"
for name in sev-webhook sev-attestation; do
  digest="$(json "d['$name']" <"$dist/images/digests.json")"
  grep -q "docker.io/library/$name@$digest" <<<"$images" ||
    fail "the CRI does not know $name@$digest after import:\n$images"
done
record "images imported: $(grep -c 'docker.io/library/sev-' <<<"$images") CRI entries carry our names"

# --- section 5: apply an overlay (Genoa: m7a), wait for the rollout -----------------------------
t0="$(now_ms)"
k apply -k "$work/kustomize/overlays/m7a" >"$work/apply.log" || { cat "$work/apply.log"; fail "apply m7a"; }
k -n sev-webhook rollout status deployment/sev-webhook --timeout=180s >/dev/null ||
  fail "webhook rollout (m7a)"
record "apply -> webhook rollout complete: $(($(now_ms) - t0)) ms"
k -n sev-attestation-agent rollout status daemonset/sev-attestation-agent --timeout=120s >/dev/null ||
  fail "agent rollout"
bundle="$(k get mutatingwebhookconfiguration sev-webhook -o jsonpath='{.webhooks[0].clientConfig.caBundle}')"
[[ -n "$bundle" ]] || fail "caBundle is empty after the rollout"

# --- section 6: check the injection in an Akash-shaped lease namespace -------------------------
k create namespace "$lease" >/dev/null
k label namespace "$lease" akash.network=true >/dev/null
bash "$KIT/kube.sh" exec kubectl proxy --port=8001 >"$work/proxy.log" 2>&1 &
proxy_pid=$!
for _ in $(seq 50); do kexec curl -sf http://127.0.0.1:8001/version >/dev/null && break; sleep 0.2; done

timing="$(kexec python3 deploy/e2e/probe.py pod-timing --namespace "$lease" \
  --manifest deploy/e2e/timed-pod.json)" || fail "timed pod: $timing"
record "tenant pod create -> Running / sidecar started / Ready (ms): $timing"

k -n "$lease" apply -f deploy/e2e/tenant.yaml >/dev/null
k -n "$lease" rollout status deployment/web --timeout=120s >/dev/null || fail "tenant rollout"
pod="$(k -n "$lease" get pods -l akash.network/manifest-service=web -o jsonpath='{.items[0].metadata.name}')"
k -n "$lease" get pod "$pod" -o json >"$work/pod.json"
python3 - "$work/pod.json" <<'EOF' || fail "injected pod is not as documented"
import json, sys
pod = json.load(open(sys.argv[1]))
spec, status = pod["spec"], pod["status"]
inits = [c for c in spec.get("initContainers", []) if c["name"] == "sev-attestation"]
assert len(inits) == 1, f"sidecar injected {len(inits)} times"
assert inits[0].get("restartPolicy") == "Always", "not a native sidecar"
assert [c["name"] for c in spec["containers"]] == ["web"], spec["containers"]
assert pod["metadata"]["annotations"]["sev-attestation/status"] == "injected"
assert status["phase"] == "Running", status["phase"]
statuses = status["containerStatuses"] + status["initContainerStatuses"]
assert all(s["ready"] for s in statuses), [(s["name"], s["ready"]) for s in statuses]
security = inits[0]["securityContext"]
assert security.get("privileged") is not True and security["runAsNonRoot"] is True, security
assert not spec.get("volumes") or all("hostPath" not in v for v in spec["volumes"])
print("injected once as a native sidecar, unprivileged, no hostPath; both containers ready")
EOF

bash "$KIT/kube.sh" kubectl -n "$lease" port-forward "pod/$pod" 8790:8790 \
  >"$work/port-forward.log" 2>&1 &
for _ in $(seq 50); do kexec curl -sf http://127.0.0.1:8790/healthz >/dev/null && break; sleep 0.2; done
kexec curl -sf http://127.0.0.1:8790/verify >"$work/verify.json" || fail "/verify did not answer"
status="$(json "d['attestation_status']" <"$work/verify.json")"
[[ "$status" == "unavailable" ]] || fail "/verify says $status, expected unavailable: $(cat "$work/verify.json")"
record "/verify: unavailable: $(json "d.get('verification_output') or d.get('reason')" <"$work/verify.json" | head -c 200)"
[[ ! -e /dev/sev-guest ]] || fail "/dev/sev-guest exists on the host"

webhook_ip="$(k -n sev-webhook get pods -l app.kubernetes.io/name=sev-webhook -o jsonpath='{.items[0].status.podIP}')"
injections=0
for ip in $(k -n sev-webhook get pods -l app.kubernetes.io/name=sev-webhook -o jsonpath='{.items[*].status.podIP}'); do
  n="$(kexec curl -sk "https://$ip:8443/metrics" | awk '/^sev_webhook_injections_total/ {print int($2)}')"
  injections=$((injections + ${n:-0}))
done
((injections >= 2)) || fail "the webhook metrics count $injections injections (expected >= 2)"
record "webhook metrics: sev_webhook_injections_total summed over replicas = $injections (from $webhook_ip and its peer)"

k -n "$lease" create -f deploy/e2e/opted-out.json >/dev/null
k -n "$lease" wait --for=condition=Ready pod/opted-out --timeout=60s >/dev/null || fail "opted-out pod"
inits="$(k -n "$lease" get pod opted-out -o jsonpath='{.spec.initContainers[*].name}')"
[[ -z "$inits" ]] || fail "opted-out pod got init containers: $inits"
record "opt-out: annotated pod admitted without a sidecar"

# --- section 9: the provider's view of every injected pod (deploy/e2e/status-check.sh) --------
. deploy/e2e/status-check.sh
status_check

rss="$(ps -eo rss=,args= | awk '/\/app\/bin\/sev-attestation / && !/sev-attestation agent / {print $1}' | sort -n | tail -n1)"
record "sidecar RSS (largest): $((rss / 1024)) MiB"

# --- a rolling restart of the webhook while pods are admitted back to back ----------------------
bash "$KIT/kube.sh" exec python3 deploy/e2e/probe.py admit --namespace "$lease" --seconds 45 \
  >"$work/admit.json" &
admit_pid=$!
bash "$KIT/kube.sh" exec python3 deploy/e2e/probe.py start-timing --namespace sev-webhook \
  --selector app.kubernetes.io/name=sev-webhook --count 2 --seconds 120 >"$work/start.json" &
start_pid=$!
sleep 3
k -n sev-webhook rollout restart deployment/sev-webhook >/dev/null
k -n sev-webhook rollout status deployment/sev-webhook --timeout=180s >/dev/null || fail "restart"
wait "$start_pid" || fail "webhook start timing: $(cat "$work/start.json")"
wait "$admit_pid" || fail "admissions rejected during the rollout: $(cat "$work/admit.json")"
record "rolling restart under load: $(cat "$work/admit.json")"
record "webhook container start -> Ready: $(cat "$work/start.json")"

# --- section 3 (sidecar settings): change one, apply, wait for the rollout ---------------------
sed -i 's/^interval: 300$/interval: 120/' "$work/kustomize/base/settings/config.yaml"
grep -q '^interval: 120$' "$work/kustomize/base/settings/config.yaml" || fail "settings edit"
t0="$(now_ms)"
k apply -k "$work/kustomize/overlays/m7a" >/dev/null
k -n sev-webhook rollout status deployment/sev-webhook --timeout=180s >/dev/null || fail "settings rollout"
# the old replicas drain (preStop) while still answering; wait until they are gone
k -n sev-webhook get pods -l app.kubernetes.io/name=sev-webhook \
  -o jsonpath='{range .items[?(@.metadata.deletionTimestamp)]}pod/{.metadata.name} {end}' |
  xargs -r bash "$KIT/kube.sh" kubectl -n sev-webhook wait --for=delete --timeout=60s >/dev/null ||
  fail "old webhook replicas did not go away"
record "settings change: apply -> every replica serves the new settings: $(($(now_ms) - t0)) ms"
kexec python3 deploy/e2e/probe.py admit --namespace "$lease" --seconds 10 --interval 120 \
  >"$work/settings.json" || fail "pods admitted with old settings: $(cat "$work/settings.json")"
record "after the settings change: $(cat "$work/settings.json")"

# --- the Milan overlay (m6a) over it: relabel the node as k3s --node-label would -----------------
k label node --all --overwrite sev.akash.network/instance-family=m6a >/dev/null
k apply -k "$work/kustomize/overlays/m6a" >/dev/null
k -n sev-webhook rollout status deployment/sev-webhook --timeout=180s >/dev/null || fail "m6a rollout"
k -n sev-attestation-agent rollout status daemonset/sev-attestation-agent --timeout=120s >/dev/null ||
  fail "m6a agent rollout"
product="$(k -n sev-webhook get deployment sev-webhook -o jsonpath='{.metadata.labels.sev\.akash\.network/amd-product}')"
[[ "$product" == "Milan" ]] || fail "m6a deployed product label $product"
k -n "$lease" rollout restart deployment/web >/dev/null
k -n "$lease" rollout status deployment/web --timeout=120s >/dev/null || fail "tenant under m6a"
record "m6a (Milan) overlay applied over m7a; tenant pod re-created, injected and ready"

# --- the node agent at scale (deploy/e2e/scale.sh) -------------------------------------------
. deploy/e2e/scale.sh
scale_test

say "PASSED"
cat "$results"
