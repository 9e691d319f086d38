#!/usr/bin/env bash
# Proves the tenant CLI on every CPython it supports (3.10, 3.11, 3.12, 3.13); run after
# `./pants package ::`. For each version, in a fresh virtualenv made by that interpreter:
#   1. installs dist/akash_snp_verify-*.whl with pip, and the test tools pinned by
#      3rdparty/python/cli.lock (pytest, hypothesis; hypercorn, uvloop and prometheus-client for the
#      sidecar that url_command_test starts);
#   2. runs the CLI's tests and the whole library's tests (real recordings, emulated recordings,
#      property tests) from the source tree under that interpreter (the wheel holds only the CLI;
#      the tests also need akash_snp.testing and the sidecar, which it does not ship);
#   3. runs the installed `snp-verify` console script on every real AMD recording, offline;
#   4. runs dist/snp-verify.pex with that interpreter on the same recordings.
#
# Interpreters: real binaries (never pyenv shims), taken from AKASH_SNP_PYTHON_3_X, else pyenv's
# ${PYENV_ROOT:-~/.pyenv}/versions/3.X.*/bin/python3.X, else python3.X on PATH. The CI image has
# all four under pyenv; this script cannot install one (no pyenv build, no Debian package of each
# version, no network Python download here), so a missing one fails with a message naming it.
# Real recordings: ${AKASH_SNP_SHARED_DIR:-../shared}/testdata/snp-real, read in place.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly VERSIONS=(3.10 3.11 3.12 3.13)
shared="${AKASH_SNP_SHARED_DIR:-$(cd .. && pwd)/shared}"
snp_real="$shared/testdata/snp-real"
[[ -f "$snp_real/manifest.json" ]] || {
  echo "check-cli-pythons: real recordings missing: $snp_real/manifest.json" >&2
  exit 1
}
shopt -s nullglob
wheels=(dist/akash_snp_verify-*-py3-none-any.whl)
shopt -u nullglob
[[ ${#wheels[@]} -eq 1 && -f dist/snp-verify.pex ]] || {
  echo "check-cli-pythons: run ./pants package :: first (need one dist/akash_snp_verify-*.whl" \
    "and dist/snp-verify.pex)" >&2
  exit 1
}
wheel="$(pwd)/${wheels[0]}"

# The interpreter binary for version $1, or nothing.
find_python() {
  local version="$1" override candidate
  override="AKASH_SNP_PYTHON_${version/./_}"
  for candidate in "${!override:-}" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/python"$version" \
    "$(command -v "python$version" || true)"; do
    [[ -n "$candidate" && -x "$candidate" && "$candidate" != */shims/* ]] || continue
    if "$candidate" -c "import sys, venv; assert '%d.%d' % sys.version_info[:2] == '$version'" 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PIP_CONFIG_FILE=/dev/null PIP_CONSTRAINT="" PIP_DISABLE_PIP_VERSION_CHECK=1
export PYTHONDONTWRITEBYTECODE=1 AKASH_SNP_SHARED_DIR="$shared"
status=0
for version in "${VERSIONS[@]}"; do
  echo "--- CPython $version"
  if ! python="$(find_python "$version")"; then
    echo "check-cli-pythons: CPython $version not found (set AKASH_SNP_PYTHON_${version/./_}, or" \
      "install it under pyenv: ${PYENV_ROOT:-$HOME/.pyenv}/versions/$version.*)" >&2
    exit 1
  fi
  echo "interpreter: $python ($("$python" -c 'import platform; print(platform.python_version())'))"
  if [[ ! -f "$work/constraints.txt" ]]; then
    # Exact versions of the test tools (and their dependencies) from the cli lockfile.
    sed '/^\/\//d' 3rdparty/python/cli.lock | "$python" -c '
import json, sys
for resolve in json.load(sys.stdin)["locked_resolves"]:
    for req in resolve["locked_requirements"]:
        print(req["project_name"] + "==" + req["version"])
' | sort -u >"$work/constraints.txt"
  fi
  venv="$work/venv-$version"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet -c "$work/constraints.txt" "$wheel" pytest hypothesis hypercorn \
    uvloop prometheus-client
  echo "tests (source tree, this interpreter):"
  if ! PYTHONPATH=src/python "$venv/bin/python" -m pytest -q -p no:cacheprovider \
    src/python/akash_snp/cli src/python/akash_snp/attest; then
    status=1
  fi
  echo "installed wheel: $venv/bin/snp-verify"
  "$venv/bin/python" build-support/check_real_recordings.py "$snp_real" -- "$venv/bin/snp-verify" ||
    status=1
  echo "PEX: $python dist/snp-verify.pex"
  PEX_ROOT="$work/pex-root" "$venv/bin/python" build-support/check_real_recordings.py "$snp_real" -- \
    "$python" dist/snp-verify.pex || status=1
done
exit $status
