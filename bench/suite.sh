#!/usr/bin/env bash
# Times the README's test command on fresh clones with cold target directories: the figure
# "test suite" of docs/BENCHMARKS.md.
#
#   bench/suite.sh                  this checkout's HEAD
#   bench/suite.sh BASE HEAD        two revisions, one after the other
#   SUITE_SLOW=1 bench/suite.sh     then also the slow tier (the README's `::slow::` command)
#                                   in the same clone, timed on its own
#   SUITE_PARALLEL=1 bench/suite.sh BASE HEAD
#                                   both at once: on a machine loaded by other work both
#                                   runs see the same load (each also slows the other, so
#                                   only their ratio means anything)
#
# Each revision is cloned from this repository into a temporary folder (deleted afterwards:
# a cold target directory takes about 5 GB), CARGO_TARGET_DIR is unset so the clone builds
# into its own `target/`, and the command is the line of the clone's README.md that ends in
# `# the tests`. Prints the wall time, the exit status and the load average at the start
# and the end; each run's output is kept in $SUITE_LOGS (default: a temporary folder).
# Needs the dependencies in cargo's cache (the runs pass no network flag; the first
# `cargo fetch` of a new clone is included in its time).
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
revs=("$@")
[ ${#revs[@]} -gt 0 ] || revs=(HEAD)
logs="${SUITE_LOGS:-$(mktemp -d)}"
mkdir -p "$logs"

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

run_one() {
    local rev="$1" label="$2"
    local clone
    clone="$(mktemp -d "${TMPDIR:-/tmp}/suite-clone.XXXXXX")"
    git clone --quiet "$repo" "$clone" && git -C "$clone" checkout --quiet "$rev" || return 1
    local command
    command="$(grep -m1 '# the tests$' "$clone/README.md" | sed 's/[[:space:]]*# the tests$//')"
    local start_load start end status
    start_load="$(loadavg)"
    start="$(date +%s.%N)"
    (cd "$clone" && env -u CARGO_TARGET_DIR bash -c "$command") >"$logs/$label.log" 2>&1
    status=$?
    end="$(date +%s.%N)"
    printf '%s (%s): %.0f s, exit %s, load %s at the start, %s at the end; %s\n' \
        "$label" "$(git -C "$clone" rev-parse --short HEAD)" "$(echo "$end - $start" | bc)" \
        "$status" "$start_load" "$(loadavg)" "$command"
    if [ "${SUITE_SLOW:-0}" = 1 ] && [ "$status" = 0 ]; then
        local slow
        slow="$(grep -m1 -- '::slow::' "$clone/README.md")"
        start="$(date +%s.%N)"
        (cd "$clone" && env -u CARGO_TARGET_DIR bash -c "$slow") >"$logs/$label-slow.log" 2>&1
        status=$?
        end="$(date +%s.%N)"
        printf '%s slow tier: %.0f s, exit %s, load %s at the end; %s\n' \
            "$label" "$(echo "$end - $start" | bc)" "$status" "$(loadavg)" "$slow"
    fi
    rm -rf "$clone"
    return "$status"
}

echo "suite: ${#revs[@]} run(s) on $(nproc) CPUs; logs in $logs" >&2
status=0
if [ "${SUITE_PARALLEL:-0}" = 1 ]; then
    pids=()
    for i in "${!revs[@]}"; do
        run_one "${revs[$i]}" "run$i-${revs[$i]//\//_}" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || status=1; done
else
    for i in "${!revs[@]}"; do
        run_one "${revs[$i]}" "run$i-${revs[$i]//\//_}" || status=1
    done
fi
exit "$status"
