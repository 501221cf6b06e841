#!/usr/bin/env bash
# The crates a user compiles (normal dependencies, host target, each name and version
# counted once), against the bounds recorded in docs/BENCHMARKS.md.
# Exits 1 when a count exceeds its bound.
#
#   (a) runtime:      secret-runtime with default features (what a service depends on)
#   (b) xtask:        secret-build with default features (what a user's xtask depends on)
#   (c) build-script: secret-build with `default-features = false, features =
#                     ["build-helper"]`, what a build script calling
#                     `secret_build::build::check()` depends on
#   (d) aws:          secret-build with its `aws` feature (`sync --to aws`, the ecs export):
#                     reported, not bounded; only an xtask that enables the feature pays it
set -euo pipefail
cd "$(dirname "$0")/.."

count() {
    cargo tree --quiet -e normal --prefix none "$@" \
        | sed 's/ (\*)//; s/ (proc-macro)//' | sort -u | wc -l
}

status=0
check() {
    local label="$1" bound="$2" n
    shift 2
    n="$(count "$@")"
    local verdict="ok"
    if [ "$n" -gt "$bound" ]; then
        verdict="OVER"
        status=1
    fi
    printf '%-14s %4d crates (bound %d) %s\n' "$label" "$n" "$bound" "$verdict"
}

check runtime 36 -p secret-runtime
check xtask 80 -p secret-build
check build-script 40 -p secret-build --no-default-features --features build-helper
printf '%-14s %4d crates (the `aws` feature, reported only)\n' aws "$(count -p secret-build --features aws)"
exit "$status"
