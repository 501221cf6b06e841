#!/usr/bin/env bash
# Reproduces the hardcoded-secret table of docs/BENCHMARKS.md: recall and false positives
# per rule family on the samples of gitleaks and detect-secrets, this repository's own
# tree, and (BENCH_REGISTRY=1) the registry crates of bench/gen.py.
#
#   bench/hardcoded.sh
#
# Exits 1 when a sample is decided otherwise than its source without a recorded reason.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
cargo build --quiet -p secret-build --bin secret
target_dir="$(cargo metadata --no-deps --format-version 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
args=(--secret "$target_dir/debug/secret")
if [ "${BENCH_REGISTRY:-0}" = 1 ]; then
    work="${BENCH_WORK:-$target_dir/bench}/registry-hardcoded"
    python3 - "$repo" "$work" <<'PY'
import argparse, sys
sys.path.insert(0, sys.argv[1] + "/bench")
import gen
# The manifests whose lock files are committed (as bench/run.sh's registry step reads).
gen.REGISTRY_MANIFESTS = ["Cargo.toml", "bench/registry-crates/Cargo.toml"]
gen.registry(argparse.Namespace(repo=sys.argv[1], out=sys.argv[2], every=10**9))
PY
    args+=(--registry "$work")
fi
python3 bench/hardcoded.py "${args[@]}"
