#!/usr/bin/env bash
# The benchmark's old entry point: bench/run is the benchmark now (see
# bench/README.md). BENCH_RUNS still sets the number of runs.
set -euo pipefail
args=()
[[ -n ${BENCH_RUNS:-} ]] && args+=(--runs "$BENCH_RUNS")
exec "$(dirname "$0")/run" "${args[@]}" "$@"
