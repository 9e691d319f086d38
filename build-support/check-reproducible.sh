#!/usr/bin/env bash
# Packages every target a second time with empty Pants caches (a separate local store and named
# caches, so no installed wheel or earlier result is reused) into a separate dist directory, and
# fails unless each artifact is byte-identical to the one in dist/ (run `./pants package ::`
# first). Fresh caches matter: a PEX copies its wheels from pex's cache of installed wheels, so a
# build that reused another machine's or an older cache's state could differ.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

again=dist-reproducibility-check
caches="$(mktemp -d)"
trap 'rm -rf "$caches" "$again"' EXIT
rm -rf "$again"
./pants --no-pantsd --no-local-cache --local-store-dir="$caches/store" \
  --named-caches-dir="$caches/named" --pants-distdir="$again" package ::

status=0
count=0
while IFS= read -r -d '' artifact; do
  name="${artifact#"$again"/}"
  count=$((count + 1))
  if ! cmp -s "$artifact" "dist/$name"; then
    echo "DIFFERENT: $name" >&2
    status=1
  else
    echo "identical: $name $(sha256sum "$artifact" | cut -d' ' -f1)"
  fi
done < <(find "$again" -type f -print0 | sort -z)
if [[ $count -eq 0 ]]; then
  echo "no artifacts were packaged" >&2
  exit 1
fi
exit $status
