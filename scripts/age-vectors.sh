#!/usr/bin/env bash
# Fetches the official age test kit (npm package `cctv-age`, the C2SP/CCTV age vectors) into a
# cache outside the repository, writes each vector to a file of its own (zlib-compressed ones
# inflated, their `compressed:` line dropped), and prints that folder.
#
#   scripts/age-vectors.sh            # fetch if missing, print the folder
#   AGE_VECTORS_DIR=$(scripts/age-vectors.sh) cargo test -p agefile-lite --test vectors
#
# The cache is $SECRETS_TOOLKIT_CACHE (default ~/.cache/secrets-toolkit)/cctv-age. The vectors
# are not committed: the test runs this script when AGE_VECTORS_DIR is unset. Needs npm and node.
set -euo pipefail
cache="${SECRETS_TOOLKIT_CACHE:-$HOME/.cache/secrets-toolkit}/cctv-age"
dir="$cache/testdata"
if [ ! -f "$dir/x25519" ]; then
    rm -rf "$cache"
    mkdir -p "$cache"
    tarball="$(cd "$cache" && npm pack --silent cctv-age | tail -n 1)"
    tar -xzf "$cache/$tarball" -C "$cache"
    rm -f "$cache/$tarball"
    # The package ships the vectors as the exports of one module: one file per export.
    mkdir -p "$dir.tmp"
    node --input-type=module -e '
        import { writeFileSync } from "node:fs";
        import { inflateSync } from "node:zlib";
        const [module, out] = process.argv.slice(1);
        const vectors = await import(module);
        for (const [name, bytes] of Object.entries(vectors)) {
            if (name === "default") continue;
            let data = Buffer.from(bytes);
            // A "compressed: zlib" vector: inflate the age file, drop that header line.
            const split = data.indexOf("\n\n");
            const text = data.subarray(0, split + 1).toString("latin1");
            if (text.includes("\ncompressed: zlib\n") || text.startsWith("compressed: zlib\n")) {
                const header = text.replace(/^compressed: zlib\n/m, "");
                const body = inflateSync(data.subarray(split + 2));
                data = Buffer.concat([Buffer.from(header + "\n", "latin1"), body]);
            }
            writeFileSync(`${out}/${name}`, data);
        }
    ' "$cache/package/index.js" "$dir.tmp" >&2
    mv "$dir.tmp" "$dir"
fi
if [ ! -f "$dir/x25519" ]; then
    echo "error: cctv-age fetched into $cache but no vector files were found in it" >&2
    exit 1
fi
echo "$dir"
