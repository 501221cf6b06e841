#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time each (default 60 s; CI passes a
# short bound): `scripts/fuzz.sh [seconds] [target...]`.
#
# - Installs cargo-fuzz from crates.io when it is missing.
# - libFuzzer needs unstable compiler flags: a nightly toolchain is used when rustup has
#   one, else the stable compiler with RUSTC_BOOTSTRAP=1 (no toolchain download needed).
# - AddressSanitizer is used when the toolchain can link it, else `--sanitizer none`
#   (coverage-guided fuzzing still finds panics, overflows in debug assertions and hangs).
# - New inputs go to a temporary corpus; the seeds in fuzz/corpus/<target>/ are read only.
#   A crash is saved under fuzz/artifacts/<target>/ and fails the script: turn it into a
#   regression test named after what broke, then fix it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(store_parse cue_overrides toml_overrides name_grammar scan_source age_decrypt)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "--- installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

toolchain=()
if rustup run nightly rustc --version >/dev/null 2>&1; then
    toolchain=(+nightly)
else
    export RUSTC_BOOTSTRAP=1
fi

sanitizer=(--sanitizer none)
if [ "${FUZZ_SANITIZER:-}" = "address" ]; then
    sanitizer=(--sanitizer address)
fi

cd fuzz
# Build once (debug assertions on, optimised), then run each target.
cargo "${toolchain[@]}" fuzz build "${sanitizer[@]}" --debug-assertions
failed=0
for target in "${targets[@]}"; do
    corpus="$(mktemp -d)"
    echo "--- fuzz $target for ${seconds}s"
    if ! cargo "${toolchain[@]}" fuzz run "${sanitizer[@]}" --debug-assertions "$target" \
        "$corpus" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        2>"$corpus.log"; then
        grep -v "^#\|^INFO" "$corpus.log" | tail -60
        echo "fuzz: $target failed; the input is under fuzz/artifacts/$target/"
        failed=1
    else
        grep -E "^stat::number_of_executed_units|^Done" "$corpus.log" || true
    fi
    rm -rf "$corpus" "$corpus.log"
done
exit "$failed"
