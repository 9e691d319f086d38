#!/usr/bin/env bash
# Cached /verify under 20 concurrent keep-alive clients for 60 s (wrk), sampling the sidecar's
# RSS every 10 s, then 15 s paced at about 500 requests/s over the same 20 connections (fixed
# pauses, then exponential ones: independent arrivals). Usage: benchmarks/sidecar/soak.sh
# [SIDECAR_COMMAND...] (default dist/sev-attestation.pex; e.g. `env PYTHONPATH=src/python
# python3.11 -m akash_snp.sidecar.main` for a source tree). Emulated provider, PKI from
# testdata/emulated. MODE=relay: the production shape, a node agent (emulated) and the sidecar in
# `--provider agent` mode relaying it; MODE=local (default): the sidecar attests itself.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
if [[ $# -eq 0 ]]; then
  set -- "$repo/dist/sev-attestation.pex"
  [[ -x "$1" ]] || { echo "no $1: run ./pants package //:sev-attestation first" >&2; exit 2; }
fi
duration="${DURATION:-60s}"
port="${PORT:-18790}"
work="$(mktemp -d)"
agent=""
trap 'kill "$sidecar" $agent 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
cp -r "$repo/testdata/emulated/pki/Genoa" "$work/pki"
emulated=(--provider emulated --emulated-pki-dir "$work/pki" --trust-ark "$work/pki/ark.pem"
  --kds-url http://127.0.0.1:9)
if [[ "${MODE:-local}" == relay ]]; then
  agent_port=$((port + 1))
  "$@" agent "${emulated[@]}" --port "$agent_port" --bind-address 127.0.0.1 2>"$work/agent.log" &
  agent=$!
  "$@" --provider agent --agent-url "http://127.0.0.1:$agent_port" --port "$port" \
    --bind-address 127.0.0.1 2>"$work/sidecar.log" &
else
  "$@" "${emulated[@]}" --port "$port" --bind-address 127.0.0.1 2>"$work/sidecar.log" &
fi
sidecar=$!
url="http://127.0.0.1:$port/verify"
for _ in $(seq 300); do
  curl -fs "$url" 2>/dev/null | grep -q '"attestation_status": *"verified"' && break
  sleep 0.1
done
rss() { awk '/^VmRSS/ {printf "%.1f MiB", $2 / 1024}' "/proc/$sidecar/status"; }
echo "== $(python3 "$here/../webhook/machine_speed.py") =="
echo "== answer: $(curl -fs "$url" | wc -c) bytes; RSS before: $(rss) =="
(for _ in 1 2 3 4 5 6; do sleep 10; echo "RSS at +${SECONDS}s: $(rss)"; done) &
sampler=$!
echo "== closed loop: 20 connections, each sending its next request at once =="
wrk -t2 -c20 -d"$duration" --latency "$url"
wait "$sampler" || true
echo "== paced: 20 connections, 40 ms pause (about 500 requests/s) =="
DELAY_MS=40 wrk -t2 -c20 -d15s --latency -s "$here/paced.lua" "$url"
echo "== paced: 20 connections, exponential pauses of mean 40 ms (about 500 requests/s) =="
POISSON=1 DELAY_MS=40 wrk -t2 -c20 -d15s --latency -s "$here/paced.lua" "$url"
echo "== RSS after: $(rss); peak $(awk '/^VmHWM/ {printf "%.1f MiB", $2 / 1024}' "/proc/$sidecar/status") =="
echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg) =="
