#!/bin/bash
# RSS of the agent-mode sidecar in front of a real agent (benchmarks/agent/README.md).
# usage: relay-rss.sh LABEL [env...] -- runs agent + sidecar from /tmp/relay-after.pex, prints sidecar RSS
set -u
label=$1; shift
pex=${PEX:-dist/sev-attestation.pex}
pki=$(mktemp -d /tmp/relay-pki.XXXX)
python3.11 $pex agent --provider emulated --emulated-pki-dir $pki --trust-ark $pki/ark.pem --bind-address 127.0.0.1 --port 18791 --kds-url http://127.0.0.1:9 --rate 1000 --burst 1000 2>/tmp/relay-agent.log &
apid=$!
sleep 6
env "$@" $SIDECAR_CMD --provider=agent --agent-url=http://127.0.0.1:18791 --bind-address 127.0.0.1 --port 18790 --rate 1000 --burst 1000 $(eval echo $SIDECAR_EXTRA) 2>/tmp/relay-sidecar-$label.log &
spid=$!
sleep 6
for i in $(seq 20); do curl -s http://127.0.0.1:18790/verify | head -c 80 >/dev/null; sleep 0.5; done
idle=$(grep VmRSS /proc/$spid/status)
curl -s http://127.0.0.1:18790/verify | python3 -c "import json,sys; b=json.load(sys.stdin); print('status', b['attestation_status'], b['provider'])"
for i in $(seq 200); do curl -s "http://127.0.0.1:18790/verify?nonce=$(openssl rand -hex 32)" -o /tmp/relay-nonce.json; done
python3 -c "import json; b=json.load(open('/tmp/relay-nonce.json')); print('nonce', b['attestation_status'])"
sleep 1
echo "$label sidecar after first /verify: $idle; after 200 nonce: $(grep -E 'VmRSS|VmHWM' /proc/$spid/status | tr -s ' \n' ' ')"
echo "agent: $(grep VmRSS /proc/$apid/status)"
kill $spid; wait $spid; kill $apid; wait $apid
rm -rf $pki
