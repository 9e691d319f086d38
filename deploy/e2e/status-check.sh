# shellcheck shell=bash
# The provider's status command on the cluster: `sev-status -A --json` run with nothing but the
# documented RBAC (deploy/sev-status: a ServiceAccount bound to the minimal ClusterRole, its token
# in a kubeconfig of its own), inside the cluster's network namespace (the API server's pod
# proxy is its only path to the sidecars). Sourced by e2e.sh, then called once the lease's
# tenant pod and the opted-out pod exist:
#
#   . deploy/e2e/status-check.sh
#   status_check
#
# Uses e2e.sh's k (kubectl), kexec (run in the cluster's namespace), $dist, $lease, fail and
# record. Asserts: the injected tenant pod in $lease is "unavailable" with a reason (no SNP on
# this node); the opted-out pod is not listed; a pod marked injected whose sidecar does not
# listen (a container that only sleeps, in a namespace of its own that the webhook does not
# watch) is "unreachable" or "pending"; the exit status is 1. Prints the table and the times.
status_check() {
  local tmp cfg server ca token t0 json_ms table_ms rc tenant ns=sev-status-check
  tmp="$(mktemp -d)"
  cfg="$tmp/sev-status.kubeconfig"

  k apply -k deploy/sev-status >/dev/null || fail "apply deploy/sev-status"
  token="$(k -n sev-webhook create token sev-status --duration=10m)" || fail "create token"
  server="$(k config view --raw --minify --flatten -o jsonpath='{.clusters[0].cluster.server}')"
  ca="$(k config view --raw --minify --flatten \
    -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')"
  cat >"$cfg" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters: [{name: e2e, cluster: {server: "$server", certificate-authority-data: "$ca"}}]
users: [{name: sev-status, user: {token: "$token"}}]
contexts: [{name: e2e, context: {cluster: e2e, user: sev-status}}]
current-context: e2e
KUBECONFIG

  # a pod marked injected whose "sidecar" never listens on 8790 (restricted-compliant), in a
  # namespace without akash.network=true: the webhook never sees it
  k create namespace "$ns" --dry-run=client -o yaml | k apply -f - >/dev/null
  for _ in $(seq 50); do  # admission refuses pods until the namespace's default account exists
    k -n "$ns" get serviceaccount default >/dev/null 2>&1 && break
    sleep 0.2
  done
  k apply -f - >/dev/null <<POD || fail "sidecar-down pod"
apiVersion: v1
kind: Pod
metadata:
  name: sidecar-down
  namespace: $ns
  annotations: {sev-attestation/status: injected}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 65532, seccompProfile: {type: RuntimeDefault}}
  containers:
    - name: sev-attestation
      image: localhost/busybox:local
      imagePullPolicy: Never
      command: [sleep, "3600"]
      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
POD
  k -n "$ns" wait --for=condition=Ready pod/sidecar-down --timeout=60s >/dev/null ||
    fail "sidecar-down pod not Ready"

  t0="$(date +%s%3N)"
  rc=0
  kexec "$dist/sev-status.pex" --kubeconfig "$cfg" -A --json >"$tmp/status.json" \
    2>"$tmp/stderr" || rc=$?
  json_ms=$(($(date +%s%3N) - t0))
  ((rc == 1)) || fail "sev-status exited $rc (expected 1): $(cat "$tmp/stderr" "$tmp/status.json")"
  tenant="$(k -n "$lease" get pods -l akash.network/manifest-service=web \
    -o jsonpath='{.items[0].metadata.name}')"
  python3 - "$tmp/status.json" "$lease" "$tenant" "$ns" <<'PY' || fail "sev-status output"
import json, sys
path, lease, tenant, down_ns = sys.argv[1:]
rows = {(r["namespace"], r["pod"]): r for r in json.load(open(path))["pods"]}
row = rows.get((lease, tenant))
assert row, f"{lease}/{tenant} not listed: {sorted(rows)}"
assert row["status"] == "unavailable" and row["reason"], row
assert (lease, "opted-out") not in rows, "the opted-out pod is listed"
down = rows.get((down_ns, "sidecar-down"))
assert down and down["status"] in {"unreachable", "pending"} and down["reason"], down
print(f"sev-status: {lease}/{tenant} unavailable ({row['reason'][:80]}); "
      f"{down_ns}/sidecar-down {down['status']} ({down['reason'][:80]})")
PY

  t0="$(date +%s%3N)"
  kexec "$dist/sev-status.pex" --kubeconfig "$cfg" -A >"$tmp/table.txt" 2>&1 || true
  table_ms=$(($(date +%s%3N) - t0))
  cat "$tmp/table.txt"
  record "sev-status -A: $(tail -n1 "$tmp/table.txt"), exit 1; --json ${json_ms} ms" \
    "(includes the PEX's first start), table ${table_ms} ms"

  k delete namespace "$ns" --wait=false >/dev/null || true
  k delete -k deploy/sev-status >/dev/null || true
  rm -rf "$tmp"
}
