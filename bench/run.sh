#!/usr/bin/env bash
# Reproduces every figure of docs/BENCHMARKS.md and prints the table.
#
#   bench/run.sh                 full run (about 10 minutes on 2 cores), writes the table
#                                into docs/BENCHMARKS.md
#   BENCH_QUICK=1 bench/run.sh   fewer rounds, shorter criterion runs (about 5 minutes)
#
# Knobs (environment):
#   BENCH_ONLY=scan,scaling,macro,registry,deps,runtime   the steps to run (default: all)
#   BENCH_WORK=DIR        where generated workspaces go (default: <target dir>/bench)
#   BENCH_RUNS=N          timed rounds per comparison (default 11, quick 5)
#   BENCH_MACRO_RUNS=N    timed rounds of the macro step (default 31, quick 11)
#   BENCH_WARMUP=N        untimed rounds first (default 2, quick 1)
#   BENCH_SIZES=10,100,1000   member crates of the synthetic workspaces
#   BENCH_CLEAN_RUNS=N    clean builds per crate in the dependency-cost step (default 1)
#   BENCH_WARM_UP_TIME, BENCH_MEASUREMENT_TIME   criterion's, in seconds
#   BENCH_WRITE_DOCS=0    only print the table
#   BENCH_KEEP=1          keep the synthetic workspaces
#
# Installs what it needs when missing (Debian: ripgrep, time, python3) with apt-get.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

need_packages=()
command -v rg >/dev/null || need_packages+=(ripgrep)
[ -x /usr/bin/time ] || need_packages+=(time)
command -v python3 >/dev/null || need_packages+=(python3)
if [ ${#need_packages[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "bench: installing ${need_packages[*]}" >&2
    if ! $sudo apt-get install -y "${need_packages[@]}" >/dev/null; then
        $sudo apt-get update >/dev/null
        $sudo apt-get install -y "${need_packages[@]}" >/dev/null
    fi
fi

target_dir="$(cargo metadata --no-deps --format-version 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
work="${BENCH_WORK:-$target_dir/bench}"
mkdir -p "$work"

echo "bench: cargo build --release -p xtask" >&2
cargo build --release -p xtask --quiet
xtask="$target_dir/release/xtask"

args=(--repo "$repo" --work "$work" --xtask "$xtask"
      --only "${BENCH_ONLY:-scan,scaling,macro,registry,deps,runtime}")
[ "${BENCH_QUICK:-0}" = 1 ] && args+=(--quick)
[ "${BENCH_KEEP:-0}" = 1 ] && args+=(--keep)
[ "${BENCH_WRITE_DOCS:-1}" = 1 ] && args+=(--write-docs "$repo/docs/BENCHMARKS.md")

exec python3 "$repo/bench/bench.py" "${args[@]}"
