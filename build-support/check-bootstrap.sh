#!/usr/bin/env bash
# Bootstraps Pants from nothing, as on a machine without any CPython 3.9: an empty launcher cache
# and no pyenv, so ./pants must assemble Python 3.9 from Debian packages. Two launchers start at
# once to prove that concurrent first runs share one bootstrap without corrupting the cache.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cache="$(mktemp -d)"
trap 'rm -rf "$cache"' EXIT
run() {
  PYENV_ROOT=/nonexistent PANTS_PYTHON='' AKASH_SNP_PANTS_CACHE="$cache" \
    ./pants --no-pantsd --version >"$cache/out.$1" 2>"$cache/err.$1"
}
start=$SECONDS
run 1 &
first=$!
run 2 &
second=$!
status=0
wait "$first" || status=1
wait "$second" || status=1
for i in 1 2; do
  if [[ "$(cat "$cache/out.$i")" != "2.17.1" ]]; then
    echo "launcher $i did not bring up Pants 2.17.1:" >&2
    cat "$cache/err.$i" >&2
    status=1
  fi
done
if ! grep -q "assembling CPython 3.9 from Debian bullseye packages" "$cache/err.1" "$cache/err.2"; then
  echo "the Debian Python 3.9 path was not taken" >&2
  status=1
fi
bootstraps="$(cat "$cache/err.1" "$cache/err.2" | grep -c "first run: installing Pants" || true)"
if [[ "$bootstraps" != 1 ]]; then
  echo "expected exactly one bootstrap for two concurrent launchers, saw $bootstraps" >&2
  status=1
fi
[[ $status -eq 0 ]] && echo "bootstrap from nothing: ok in $((SECONDS - start)) s (two concurrent launchers, one bootstrap)"
exit $status
