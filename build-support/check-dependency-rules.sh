#!/usr/bin/env bash
# Proves the layer rules of src/python/akash_snp/BUILD bite: for each forbidden import below, a
# probe module importing it is written into the package, and `./pants dependencies` must refuse
# it with DependencyRuleActionDeniedError; an allowed import must pass. The probes are removed on
# exit, whatever happens.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

pkg=src/python/akash_snp
probes=()
cleanup() { rm -f "${probes[@]}"; }
trap cleanup EXIT

probe() {  # probe PACKAGE IMPORT EXPECTED(allowed|denied)
  local file="$pkg/$1/layer_probe.py" log
  probes+=("$file")
  printf '"""Layer-rule probe (build-support/check-dependency-rules.sh)."""\n\nimport %s  # noqa: F401\n' "$2" >"$file"
  log="$(./pants dependencies "$file" 2>&1)" && outcome=allowed || outcome=denied
  rm -f "$file"
  if [[ "$outcome" != "$3" ]]; then
    echo "FAIL: $1 importing $2 was $outcome, expected $3" >&2
    echo "$log" | tail -20 >&2
    return 1
  fi
  if [[ "$outcome" == denied ]] && ! grep -q "DependencyRuleActionDeniedError" <<<"$log"; then
    echo "FAIL: $1 importing $2 failed for another reason:" >&2
    echo "$log" | tail -20 >&2
    return 1
  fi
  echo "ok: $1 -> $2 $outcome"
}

probe attest akash_snp.testing.fake_kds denied           # test helpers only from tests
probe guest akash_snp.testing.fake_sev_guest denied
probe attest akash_snp.guest.provider denied             # the library depends on nothing of ours
probe cli akash_snp.guest.select denied                  # the tenant CLI: attest only
probe webhook akash_snp.attest.verify denied             # the webhook stands alone
probe agent akash_snp.sidecar.app denied                 # the agent does not need the sidecar
probe sidecar akash_snp.attestation.state allowed        # control: a permitted layer
probe cli akash_snp.attest.verify allowed
