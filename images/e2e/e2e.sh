#!/usr/bin/env bash
# End-to-end check of the container images built by `./pants package ::` (dist/images/*.tar):
# loads them into Debian's Docker engine (installing docker.io and starting dockerd when missing),
# runs them and probes them as a cluster would:
#   - both archives load with `docker load` and Docker's image ID is the archive's config digest;
#   - both run as uid/gid 65532 (the node agent's DaemonSet sets its own user) with a read-only
#     root file system, and neither has a shell or package manager;
#   - the sidecar (emulated provider) answers /healthz and /verify, and `snp-verify url` verifies
#     it against the emulated root copied out of the container (--trust-ark);
#   - the webhook, with a certificate from its own `certs` command, answers a real AdmissionReview
#     on https://127.0.0.1:PORT/mutate with the golden JSON patch.
# Leaves nothing behind: containers, loaded images and a dockerd it started are removed on exit.
# Needs root (docker), python3.11 (the PEX binaries' interpreter) and dist/ from ./pants package ::.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

dist="${DIST_DIR:-dist}"
golden="src/python/akash_snp/webhook/golden/akash-web-generate-name"
images=(sev-attestation sev-webhook)
declare -A expected_user=([sev-attestation]="65532:65532" [sev-webhook]="65532:65532")
work="$(mktemp -d)"
dockerd_pid=""
containers=()
loaded=()

say() { printf '[images-e2e] %s\n' "$*"; }
fail() {
  printf '[images-e2e] FAILED: %s\n' "$*" >&2
  exit 1
}

cleanup() {
  local c
  for c in "${containers[@]}"; do
    docker logs "$c" >"$work/$c.log" 2>&1 || true
    docker rm -f "$c" >/dev/null 2>&1 || true
  done
  if [[ ${#loaded[@]} -gt 0 ]]; then
    docker rmi "${loaded[@]}" >/dev/null 2>&1 || true
  fi
  if [[ -n "$dockerd_pid" ]]; then
    kill "$dockerd_pid" 2>/dev/null || true
    wait "$dockerd_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

container_logs() {
  docker logs "$1" 2>&1 | tail -n 20 >&2 || true
}

# GET a URL with the standard library; prints the body, fails on a non-2xx status.
http_get() {
  python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' "$1"
}

wait_for() {
  local what="$1" container="$2"
  shift 2
  local i
  for i in $(seq 1 120); do
    if "$@" >/dev/null 2>&1; then
      say "$what is up after ${i}s"
      return 0
    fi
    if [[ "$(docker inspect -f '{{.State.Running}}' "$container")" != true ]]; then
      container_logs "$container"
      fail "$what: container exited"
    fi
    sleep 1
  done
  container_logs "$container"
  fail "$what did not come up within 120s"
}

host_port() {
  docker port "$1" "$2/tcp" | sed -n 's/^127\.0\.0\.1:\([0-9]*\)$/\1/p' | head -n 1
}

for image in "${images[@]}"; do
  [[ -f "$dist/images/$image.tar" ]] || fail "$dist/images/$image.tar is missing: run ./pants package :: first"
done
[[ -f "$dist/snp-verify.pex" && -f "$dist/sev-webhook.pex" ]] || fail "run ./pants package :: first"

if ! command -v dockerd >/dev/null; then
  say "installing Debian's docker.io"
  apt-get update -q >"$work/apt.log" 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io \
    >>"$work/apt.log" 2>&1 || { tail -n 20 "$work/apt.log" >&2; fail "apt-get install docker.io"; }
fi
if ! docker info >/dev/null 2>&1; then
  say "starting dockerd"
  dockerd >"$work/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { tail -n 20 "$work/dockerd.log" >&2; fail "dockerd did not start"; }
fi
say "Docker engine $(docker version -f '{{.Server.Version}}')"

for image in "${images[@]}"; do
  archive="$dist/images/$image.tar"
  docker load -i "$archive" | grep -qx "Loaded image: $image:latest" || fail "docker load $archive"
  loaded+=("$image:latest")
  config="$(tar -xOf "$archive" manifest.json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["Config"].split("/")[-1])')"
  id="$(docker inspect -f '{{.Id}}' "$image:latest")"
  [[ "$id" == "sha256:$config" ]] || fail "$image: docker image ID $id is not the archive's config $config"
  want="${expected_user[$image]}"
  user="$(docker inspect -f '{{.Config.User}}' "$image:latest")"
  [[ "$user" == "$want" ]] || fail "$image: configured user is '$user', expected $want"
  ids="$(docker run --rm --entrypoint /usr/bin/python3.11 "$image:latest" -c \
    'import os; print(f"{os.getuid()}:{os.getgid()}")')"
  [[ "$ids" == "$want" ]] || fail "$image: runs as '$ids', expected $want"
  if docker run --rm --entrypoint /bin/sh "$image:latest" -c true >/dev/null 2>&1; then
    fail "$image: /bin/sh runs"
  fi
  docker create --name "e2e-export-$image" "$image:latest" >/dev/null
  containers+=("e2e-export-$image")
  forbidden="$(docker export "e2e-export-$image" | tar -t |
    grep -E '^(usr/)?s?bin/(sh|bash|dash|apt|apt-get|dpkg|pip[0-9.]*)$' || true)"
  [[ -z "$forbidden" ]] || fail "$image contains: $forbidden"
  say "$image: loaded as $id, runs as $want, no shell or package manager"
done

# The sidecar with the emulated provider; its test PKI is created inside the container.
sidecar="e2e-sidecar-$$"
docker run -d --name "$sidecar" --read-only --tmpfs /tmp -p 127.0.0.1::8790 sev-attestation:latest \
  --provider emulated --emulated-pki-dir /tmp/pki --port 8790 --bind-address 0.0.0.0 >/dev/null
containers+=("$sidecar")
sleep 1
port="$(host_port "$sidecar" 8790)"
wait_for "sidecar /healthz" "$sidecar" http_get "http://127.0.0.1:$port/healthz"
http_get "http://127.0.0.1:$port/verify" >"$work/verify.json"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["attestation_report"], d' \
  "$work/verify.json" || fail "sidecar /verify has no attestation_report"
# (/tmp is a tmpfs, which `docker cp` cannot read: the image's own Python prints the root)
docker exec "$sidecar" /usr/bin/python3.11 -c 'print(open("/tmp/pki/ark.pem").read(), end="")' \
  >"$work/ark.pem" || fail "cannot read the emulated root from the sidecar"
python3.11 "$dist/snp-verify.pex" url "http://127.0.0.1:$port/verify" --trust-ark "$work/ark.pem" \
  >"$work/snp-verify.out" 2>&1 || { cat "$work/snp-verify.out" >&2; fail "snp-verify url rejected the sidecar"; }
say "sidecar: /healthz ok, /verify verified by snp-verify url ($(grep -c '^\[ok\]' "$work/snp-verify.out") checks ok)"

# The webhook, serving with a certificate made by its own `certs` command (SAN 127.0.0.1).
mkdir -m 0777 "$work/tls"
docker run --rm -v "$work/tls:/tls" sev-webhook:latest certs --out-dir /tls --ip 127.0.0.1 \
  >/dev/null 2>"$work/certs.log" || { cat "$work/certs.log" >&2; fail "sev-webhook certs"; }
webhook="e2e-webhook-$$"
docker run -d --name "$webhook" --read-only --tmpfs /tmp -v "$work/tls:/tls:ro" -p 127.0.0.1::8443 sev-webhook:latest \
  --tls-cert /tls/tls.crt --tls-key /tls/tls.key --port 8443 --bind-address 0.0.0.0 >/dev/null
containers+=("$webhook")
sleep 1
port="$(host_port "$webhook" 8443)"
wait_for "webhook TLS port" "$webhook" python3 -c \
  'import socket, ssl, sys; c = ssl.create_default_context(cafile=sys.argv[2]); c.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5), server_hostname="127.0.0.1").close()' \
  "$port" "$work/tls/ca.crt"
PEX_INTERPRETER=1 python3.11 "$dist/sev-webhook.pex" images/e2e/admission_check.py \
  "https://127.0.0.1:$port/mutate" "$work/tls/ca.crt" "$golden.in.yaml" "$golden.out.yaml" ||
  { container_logs "$webhook"; fail "webhook /mutate"; }

say "all checks passed"
