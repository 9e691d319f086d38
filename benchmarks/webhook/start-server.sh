# Sourced by run.sh and soak.sh after `here` and `port` are set: starts the webhook under test
# ("$@", default dist/sev-webhook.pex) on 127.0.0.1:$port with a throw-away certificate, waits
# until it is ready, and stops it on exit. Sets `server` (its pid), `url` and `work`.
# NICE=-10 (root only) runs the server ahead of other jobs on a shared machine; EXTRA_ARGS are
# server flags of the stack under test (the old gunicorn stack: --workers 2 --threads 16).
if [[ $# -eq 0 ]]; then
  set -- "$here/../../dist/sev-webhook.pex"
  [[ -x "$1" ]] || { echo "no $1: run ./pants package //:sev-webhook first" >&2; exit 2; }
fi
nice=(nice -n "${NICE:-0}")
work="$(mktemp -d)"
trap 'kill "$server" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
"$@" certs --out-dir "$work/tls" --ip 127.0.0.1 >/dev/null
# shellcheck disable=SC2086
"${nice[@]}" "$@" --tls-cert "$work/tls/tls.crt" --tls-key "$work/tls/tls.key" \
  --port "$port" --bind-address 127.0.0.1 ${EXTRA_ARGS:-} 2>"$work/server.log" &
server=$!
url="https://127.0.0.1:$port"
for _ in $(seq 300); do
  curl -fsk "$url/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
