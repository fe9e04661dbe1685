#!/usr/bin/env bash
# make_trace_samples.sh -- writes the sample traces of tests/data/traces/ with
# Lumos' own commands: a generated trace in each mode, synthetic Azure
# Functions 2019 and 2021 files (`lumos trace synth`: made-up names and
# counts, nothing from the real data sets) and their replays. The same
# Lumos gives the same bytes; tests/integration/test_trace.sh checks that
# the files in the tree are what this script writes.
# Usage: tools/make_trace_samples.sh [LUMOS [OUT]]   (default ./lumos, tests/data/traces)
set -euo pipefail
cd "$(dirname "$0")/.."
lumos=${1:-./lumos}
out=${2:-tests/data/traces}
mkdir -p "$out/bodies" "$out/azure2019" "$out/azure2021"

printf '{"n":93}' >"$out/bodies/fibonacci.json"
"$lumos" trace gen --pattern poisson --rate 20 --duration 10 --seed 1 \
    --mix fibonacci@native:3,noop:1 -o "$out/poisson.csv" >/dev/null
"$lumos" trace gen --pattern closed --clients 2 --requests 6 --payload file:bodies/fibonacci.json \
    -o "$out/closed.csv" >/dev/null
"$lumos" trace synth azure2019 --seed 1 --functions 8 -o "$out/azure2019" >/dev/null
"$lumos" trace azure2019 "$out/azure2019/invocations_per_function_md.synth.d01.csv" \
    --durations "$out/azure2019/function_durations_percentiles.synth.d01.csv" --minutes 1-30 \
    --map "$out/azure2019/replay-map.csv" -o "$out/azure2019/replay-minutes-1-30.csv" >/dev/null
"$lumos" trace synth azure2021 --seed 1 --functions 8 --duration 300 \
    -o "$out/azure2021/synth.csv" >/dev/null
"$lumos" trace azure2021 "$out/azure2021/synth.csv" --map "$out/azure2021/replay-map.csv" \
    -o "$out/azure2021/replay.csv" >/dev/null
