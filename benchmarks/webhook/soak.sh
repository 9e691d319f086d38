#!/usr/bin/env bash
# The webhook's RSS under load: 16 keep-alive connections in a closed loop for 60 s (wrk), RSS
# sampled every 10 s. Usage: ./pants package //:sev-webhook && benchmarks/webhook/soak.sh
# [WEBHOOK_COMMAND...] (default dist/sev-webhook.pex). Knobs: DURATION=60s PORT=18446.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
duration="${DURATION:-60s}"
port="${PORT:-18446}"
# shellcheck source=start-server.sh
source "$here/start-server.sh"
rss() { awk '/^VmRSS/ {printf "%.1f MiB", $2 / 1024}' "/proc/$server/status"; }
echo "== $(python3 "$here/machine_speed.py") =="
echo "== RSS before: $(rss) =="
(for _ in 1 2 3 4 5 6; do sleep 10; echo "RSS at +${SECONDS}s: $(rss)"; done) &
sampler=$!
echo "== closed loop: 16 connections for $duration =="
BODY_FILE="$here/admission-review.json" wrk -t2 -c16 -d"$duration" --latency \
  -s "$here/mutate.lua" "$url/mutate"
wait "$sampler" || true
echo "== RSS after: $(rss); peak $(awk '/^VmHWM/ {printf "%.1f MiB", $2 / 1024}' "/proc/$server/status") =="
echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg) =="
