#!/usr/bin/env bash
# Packages every target a second time with Pants' caches off, into a separate dist directory, and
# fails unless each artifact is byte-identical to the one in dist/ (run `./pants package ::` first).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

again=dist-reproducibility-check
rm -rf "$again"
./pants --no-local-cache --no-pantsd --pants-distdir="$again" package ::

status=0
count=0
while IFS= read -r -d '' artifact; do
  name="${artifact#"$again"/}"
  count=$((count + 1))
  if cmp -s "$artifact" "dist/$name"; then
    echo "identical: $name $(sha256sum "$artifact" | cut -d' ' -f1)"
  else
    echo "DIFFERENT: $name" >&2
    status=1
  fi
done < <(find "$again" -type f -print0 | sort -z)
rm -rf "$again"
if [[ $count -eq 0 ]]; then
  echo "no artifacts were packaged" >&2
  exit 1
fi
exit $status
