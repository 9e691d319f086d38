#!/usr/bin/env bash
# Admission throughput and latency of the webhook over HTTPS keep-alive on loopback, with wrk.
# Usage: ./pants package //:sev-webhook && benchmarks/webhook/run.sh [WEBHOOK_COMMAND...]
# (default dist/sev-webhook.pex, the shipped binary; any command that takes sev-webhook's
# arguments works, e.g. `env PYTHONPATH=src/python python3.11 -m akash_snp.webhook.main`).
# Needs `wrk` (Debian package "wrk").
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
duration="${DURATION:-15s}"
port="${PORT:-18443}"
# shellcheck source=start-server.sh
source "$here/start-server.sh"

cd "$here"
echo "== $(python3 machine_speed.py) =="
echo "== sanity: one admission =="
curl -fsk -H 'Content-Type: application/json' --data-binary @admission-review.json "$url/mutate" \
  | python3 -c 'import json,sys; r=json.load(sys.stdin)["response"]; print("allowed", r["allowed"], "patchType", r.get("patchType"))'
echo "== warm-up =="
wrk -t2 -c16 -d3s -s mutate.lua "$url/mutate" >/dev/null
for c in 1 16 64; do
  t=$(( c < 2 ? 1 : 2 ))
  echo "== closed loop, $c connections =="
  "${nice[@]}" wrk -t"$t" -c"$c" -d"$duration" --latency -s mutate.lua "$url/mutate"
done
# wrk's delay() is a pause between a response and the next request on the same connection, so the
# offered rate is connections * 1000 / (pause + latency): about 500/s for both runs below.
echo "== paced: 16 connections, 28 ms pause (about 500 admissions/s) =="
CONNS_PER_THREAD=8 DELAY_MS=28 "${nice[@]}" wrk -t2 -c16 -d"$duration" --latency -s mutate.lua "$url/mutate"
echo "== paced: 16 connections, exponential pauses of mean 28 ms (about 500 admissions/s, independent arrivals) =="
POISSON=1 CONNS_PER_THREAD=8 DELAY_MS=28 "${nice[@]}" wrk -t2 -c16 -d"$duration" --latency -s mutate.lua "$url/mutate"
echo "== paced: 64 connections, 120 ms pause (about 500 admissions/s) =="
CONNS_PER_THREAD=32 DELAY_MS=120 "${nice[@]}" wrk -t2 -c64 -d"$duration" --latency -s mutate.lua "$url/mutate"
echo "== load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) =="
echo "== RSS per process (kB): the server, then its children (gunicorn workers) =="
ps -o pid,ppid,rss,args --pid "$server" --ppid "$server" | cut -c1-120
echo "== metrics =="
curl -fsk "$url/metrics" | grep -E '^sev_webhook_(injections|errors)_total|admission_requests_total'
