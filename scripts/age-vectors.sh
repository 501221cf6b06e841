#!/usr/bin/env bash
# Refreshes the committed copy of the official age test kit (npm package `cctv-age`, the
# C2SP/CCTV age vectors) in secret-age/tests/testdata/testkit/: one file per vector, byte for
# byte as published (compressed vectors stay compressed; the test inflates them).
#
#   scripts/age-vectors.sh            # the latest release
#   scripts/age-vectors.sh 0.2.0      # a given version
#
# The tests never run this: they read the committed copy. Review the diff, then update the
# version named in secret-age/tests/testdata/README.md. Needs npm and node.
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:-latest}"
out="secret-age/tests/testdata/testkit"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tarball="$(cd "$work" && npm pack --silent "cctv-age@$version" | tail -n 1)"
tar -xzf "$work/$tarball" -C "$work"
mkdir "$work/testkit"
# The package ships the vectors as the exports of one module: one file per export.
node --input-type=module -e '
    import { writeFileSync } from "node:fs";
    const [module, out] = process.argv.slice(1);
    const vectors = await import(module);
    for (const [name, bytes] of Object.entries(vectors)) {
        if (name !== "default") writeFileSync(`${out}/${name}`, Buffer.from(bytes));
    }
' "$work/package/index.js" "$work/testkit"
if [ ! -f "$work/testkit/x25519" ]; then
    echo "error: cctv-age@$version holds no vector named x25519; $out is unchanged" >&2
    exit 1
fi
rm -rf "$out"
mv "$work/testkit" "$out"
echo "$(ls "$out" | wc -l) vectors of cctv-age@$(node -p "require('$work/package/package.json').version") in $out"
