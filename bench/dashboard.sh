#!/usr/bin/env bash
# The dashboard's figures of docs/BENCHMARKS.md: first load and update of 300 secrets x 6
# environments in headless Chromium, against a 10-secret workspace and a whole-grid redraw
# measured in the same run (bench/dashboard.py says how).
#
#   bench/dashboard.sh                 15 rounds, writes the table into docs/BENCHMARKS.md
#   BENCH_WRITE_DOCS=0 bench/dashboard.sh   only print the table
#
# Knobs (environment): BENCH_ROUNDS (default 15), BENCH_WARMUP (default 2), BENCH_WORK
# (default $TMPDIR/secrets-bench-dashboard, emptied first). Installs chromium and chromium-driver with apt-get
# when missing.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "bench: installing chromium and chromium-driver" >&2
    $sudo apt-get update >/dev/null
    $sudo apt-get install -y chromium chromium-driver >/dev/null
fi

target_dir="$(cargo metadata --no-deps --format-version 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
# Outside this repository: cargo reads the configuration of the folders above the one it
# runs in, and this repository's `target-dir` would make a workspace under target/ a build
# folder, whose files the scanner skips.
work="${BENCH_WORK:-${TMPDIR:-/tmp}/secrets-bench-dashboard}"

echo "bench: cargo build --release -p xtask" >&2
cargo build --release -p xtask --quiet

args=(--xtask "$target_dir/release/xtask" --work "$work"
      --rounds "${BENCH_ROUNDS:-15}" --warmup "${BENCH_WARMUP:-2}")
[ "${BENCH_WRITE_DOCS:-1}" = 1 ] && args+=(--write-docs "$repo/docs/BENCHMARKS.md")

exec python3 "$repo/bench/dashboard.py" "${args[@]}"
