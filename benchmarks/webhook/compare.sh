#!/usr/bin/env bash
# Side-by-side latency of two webhook stacks under the same machine load: alternates them,
# ROUNDS times, each round starting the server afresh and running the paced load (16 keep-alive
# connections, about 500 admissions/s; equal pauses, then exponential ones) and a closed loop (16
# connections) with wrk.
# Usage: benchmarks/webhook/compare.sh "OLD COMMAND [FLAGS]" "NEW COMMAND [FLAGS]"
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
rounds="${ROUNDS:-3}"
duration="${DURATION:-10s}"
port="${PORT:-18444}"
# NICE=-10 (root only) runs servers and wrk ahead of other jobs on a shared machine.
nice=(nice -n "${NICE:-0}")
work="$(mktemp -d)"
server=""
trap '[[ -n "$server" ]] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
read -ra words <<<"$2"
base=()  # the new command without its flags makes the certificates
for word in "${words[@]}"; do [[ $word == --* ]] && break; base+=("$word"); done
"${base[@]}" certs --out-dir "$work/tls" --ip 127.0.0.1 >/dev/null
export BODY_FILE="$here/admission-review.json"  # (commands may be relative to the caller's directory)
url="https://127.0.0.1:$port/mutate"
for round in $(seq "$rounds"); do
  for label in old new; do
    if [[ $label == old ]]; then read -ra cmd <<<"$1"; else read -ra cmd <<<"$2"; fi
    "${nice[@]}" "${cmd[@]}" --tls-cert "$work/tls/tls.crt" --tls-key "$work/tls/tls.key" --port "$port" \
      --bind-address 127.0.0.1 2>"$work/$label.log" &
    server=$!
    for _ in $(seq 300); do curl -fsk "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
    wrk -t2 -c16 -d3s -s "$here/mutate.lua" "$url" >/dev/null || { cat "$work/$label.log" >&2; exit 1; }
    paced=$(CONNS_PER_THREAD=8 DELAY_MS=28 "${nice[@]}" wrk -t2 -c16 -d"$duration" --latency -s "$here/mutate.lua" "$url")
    poisson=$(POISSON=1 CONNS_PER_THREAD=8 DELAY_MS=28 "${nice[@]}" wrk -t2 -c16 -d"$duration" --latency -s "$here/mutate.lua" "$url")
    closed=$("${nice[@]}" wrk -t2 -c16 -d"$duration" --latency -s "$here/mutate.lua" "$url")
    pick() { awk '/^ +50%/{a=$2} /^ +90%/{b=$2} /^ +99%/{c=$2} /Requests\/sec/{r=$2} END{printf "%s/s p50 %s p90 %s p99 %s", r, a, b, c}'; }
    speed=$(python3 "$here/machine_speed.py" | cut -d' ' -f3)
    echo "round $round $label: paced-16 $(pick <<<"$paced") | poisson-16 $(pick <<<"$poisson") | closed-16 $(pick <<<"$closed") | load $(cut -d' ' -f1 /proc/loadavg) | machine speed $speed"
    kill "$server"; wait "$server" 2>/dev/null || true; server=""
  done
done
