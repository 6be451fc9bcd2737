#!/usr/bin/env bash
# Vendors the pinned browser libraries the binary embeds, from the npm
# registry (`npm pack`, production builds only, each with its licence), and
# records their SHA-256 in SHA256SUMS.
#   assets/vendor/vendor.sh          fetch and write the files here
#   assets/vendor/vendor.sh --check  fetch into a scratch folder and fail
#                                    if the committed files differ
# Changing a version here changes the served path too (it is versioned).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

# package@version  file-in-package...
PINNED=(
  "graphiql@3.8.3 graphiql.min.js graphiql.min.css LICENSE"
  "react@18.3.1 umd/react.production.min.js LICENSE"
  "react-dom@18.3.1 umd/react-dom.production.min.js LICENSE"
  "uplot@1.6.32 dist/uPlot.esm.js dist/uPlot.min.css LICENSE"
)

out="$here"
[[ "${1:-}" == "--check" ]] && out="$(mktemp -d)"
scratch="$(mktemp -d)"
cleanup() {
  rm -rf "$scratch"
  if [[ "$out" != "$here" ]]; then rm -rf "$out"; fi
}
trap cleanup EXIT

for entry in "${PINNED[@]}"; do
  read -r spec files <<<"$entry"
  name="${spec%@*}"; version="${spec#*@}"
  dir="$out/$name-$version"
  mkdir -p "$dir"
  (cd "$scratch" && npm pack --silent "$spec" >/dev/null)
  tar -xzf "$scratch/$name-$version.tgz" -C "$scratch"
  for file in $files; do
    cp "$scratch/package/$file" "$dir/$(basename "$file")"
  done
  rm -rf "$scratch/package"
done
(cd "$out" && find . -mindepth 2 -type f ! -name SHA256SUMS | LC_ALL=C sort | xargs sha256sum) >"$out/SHA256SUMS"

if [[ "$out" != "$here" ]]; then
  if ! diff -u "$here/SHA256SUMS" "$out/SHA256SUMS"; then
    echo "assets/vendor is not what vendor.sh pins: run assets/vendor/vendor.sh" >&2
    exit 1
  fi
  (cd "$here" && sha256sum --quiet -c SHA256SUMS)
  echo "assets/vendor matches the pinned npm releases"
fi
