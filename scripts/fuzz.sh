#!/usr/bin/env bash
# Runs the cargo-fuzz targets in fuzz/: `scripts/fuzz.sh [seconds] [target...]` (default
# 60 s each; every target in fuzz/fuzz_targets/ when none is named). For each target:
#
# 1. Replay: every input committed in fuzz/corpus/<target>/ runs once, in order. This is
#    deterministic: the inputs of earlier findings and the inputs that reach deep into the
#    parser run on every CI run, so a fixed crash stays fixed.
# 2. Fuzz for the given time, starting from that corpus. New inputs go to a temporary
#    folder; fuzz/corpus/ is only read.
#
# A finding (a panic, a failed assertion, a hang, an out-of-memory) fails the script, which
# names the input file and the command that reproduces it. Fix it, then make the input a
# regression test (tests/tests/fuzz_regressions.rs) and add it to fuzz/corpus/<target>/
# under a name saying what broke. `FUZZ_KEEP_CORPUS=DIR` keeps what fuzzing found (one
# folder per target), to minimise into fuzz/corpus/ (`cargo fuzz cmin`).
#
# - Installs cargo-fuzz from crates.io when it is missing.
# - libFuzzer needs unstable compiler flags: a nightly toolchain is used when rustup has
#   one, else the stable compiler with RUSTC_BOOTSTRAP=1 (no toolchain download needed).
# - `FUZZ_SANITIZER=address` uses AddressSanitizer; by default `--sanitizer none` (the
#   code has no `unsafe`; coverage-guided fuzzing still finds panics, overflows under debug
#   assertions, hangs and runaway memory).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for file in fuzz/fuzz_targets/*.rs; do
        targets+=("$(basename "$file" .rs)")
    done
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "--- installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

toolchain=()
command_prefix="cargo"
if rustup run nightly rustc --version >/dev/null 2>&1; then
    toolchain=(+nightly)
    command_prefix="cargo +nightly"
else
    export RUSTC_BOOTSTRAP=1
    command_prefix="RUSTC_BOOTSTRAP=1 cargo"
fi
sanitizer=(--sanitizer "${FUZZ_SANITIZER:-none}")
flags=("${sanitizer[@]}" --debug-assertions)
# Generous per-input limits: a 15 s run on a loaded machine must not fail on a slow input
# that is no hang.
limits=(-timeout=30 -rss_limit_mb=2048)

cd fuzz
# Build once (debug assertions on, optimised), then run each target.
cargo "${toolchain[@]}" fuzz build "${flags[@]}"

# Names the failing input `$2` of target `$1` (a path under fuzz/) and prints how to
# reproduce it from the repository root: on another machine (the CI clone is gone), the
# first command writes the input back from its base64 text.
report() {
    local target="$1" input="$2"
    # libFuzzer may name it by its absolute path: make it relative to fuzz/.
    input="${input#"$PWD"/}"
    if [ -z "$input" ] || [ ! -f "$input" ]; then
        echo "fuzz: $target failed without naming an input (see the log above)"
        return
    fi
    echo "fuzz: $target fails on fuzz/$input ($(wc -c <"$input") bytes); to reproduce it, from the repository root:"
    if [ "$(wc -c <"$input")" -le 65536 ]; then
        echo "  mkdir -p fuzz/$(dirname "$input") && echo '$(base64 -w0 <"$input")' | base64 -d >fuzz/$input"
    fi
    echo "  cd fuzz && $command_prefix fuzz run ${flags[*]} $target $input"
}

# What a failing run said: the panic message (without the backtrace) and libFuzzer's
# summary, or the end of the log when there is neither.
show() {
    local log="$1"
    if grep -q "panicked at\|^==[0-9]*== ERROR\|^SUMMARY" "$log"; then
        awk '/panicked at/ { on = 1 } /^stack backtrace|^   0: / { on = 0 }
             on || /^==[0-9]+== ERROR|^SUMMARY|^Running: |^MS: |^Test unit written/' "$log" | head -60
    else
        tail -40 "$log"
    fi
}

failed=0
for target in "${targets[@]}"; do
    log="$(mktemp)"
    mapfile -t seeds < <(find "corpus/$target" -type f 2>/dev/null | sort)
    echo "--- fuzz $target: replay ${#seeds[@]} committed inputs"
    if [ ${#seeds[@]} -gt 0 ]; then
        # Given files (not folders), libFuzzer runs each once and stops at the first finding,
        # after a `Running: FILE` line naming it.
        if ! cargo "${toolchain[@]}" fuzz run "${flags[@]}" "$target" "${seeds[@]}" -- \
            "${limits[@]}" >"$log" 2>&1; then
            show "$log"
            report "$target" "$(grep "^Running: " "$log" | tail -1 | sed 's/^Running: //')"
            failed=1
            rm -f "$log"
            continue
        fi
    fi
    echo "--- fuzz $target for ${seconds}s"
    corpus="$(mktemp -d)"
    if ! cargo "${toolchain[@]}" fuzz run "${flags[@]}" "$target" "$corpus" "corpus/$target" -- \
        -max_total_time="$seconds" "${limits[@]}" -print_final_stats=1 >"$log" 2>&1; then
        show "$log"
        report "$target" "$(grep -o "Test unit written to [^ ]*" "$log" | tail -1 | sed 's/Test unit written to //')"
        failed=1
    else
        grep -E "^stat::number_of_executed_units|^Done" "$log" || true
    fi
    if [ -n "${FUZZ_KEEP_CORPUS:-}" ]; then
        mkdir -p "$FUZZ_KEEP_CORPUS/$target"
        cp "$corpus"/* "$FUZZ_KEEP_CORPUS/$target/" 2>/dev/null || true
    fi
    rm -rf "$corpus" "$log"
done
exit "$failed"
