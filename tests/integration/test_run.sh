# lumos run, the main job, end to end on a small matrix: every request is in
# requests.csv and in results.db alike, the parts add up, CPU and memory are
# attributed, the report has its sections, and a Redis it cannot reach is a
# clear error.
source "$(dirname "$0")/lib.sh"

out=$TMP/run
expect_exit 0 "$LUMOS" run --direct --group xs --runs 3 --warmup 1 --functions fibonacci,fuzzy-search \
  --runtimes native,wasm-aot --out "$out" --json
[[ $(echo "$OUT" | jq '.results | length') == 4 ]] || fail "4 pairs expected: $OUT"
for f in requests.csv results.db summary.csv summary.json report.md; do
  [[ -s $out/$f ]] || fail "no $f"
done
rows=$(($(wc -l <"$out/requests.csv") - 1))
[[ $rows == 20 ]] || fail "requests.csv has $rows rows, expected 2 x 2 x (1 + 1 + 3)"
[[ $(sqlite3 "$out/results.db" 'select count(*) from requests') == "$rows" ]] || fail "results.db and requests.csv differ"
[[ $(sqlite3 "$out/results.db" 'select count(*) from instances') == 4 ]] || fail "4 instances expected"
[[ $(sqlite3 "$out/results.db" "select count(*) from requests where cold = 1") == 4 ]] || fail "4 cold requests expected"
# The function's parts add up to its total, in every row.
[[ $(sqlite3 "$out/results.db" 'select count(*) from requests where deser_ns + io_ns + compute_ns + ser_ns != func_total_ns') == 0 ]] ||
  fail "probes do not add up"
# CPU time and peak memory are attributed to every request (cgroup or /proc).
[[ $(sqlite3 "$out/results.db" 'select count(*) from requests where cpu_user_ns is null or mem_peak_bytes is null or mem_peak_bytes <= 0') == 0 ]] ||
  fail "requests without CPU or memory"
awk -F, 'NR > 1 && $22 == "" { bad = 1 } END { exit bad }' "$out/requests.csv" || fail "telemetry column empty"
for section in "## Method" "## Results" "## Artifact sizes" "## Findings"; do
  grep -q "^$section" "$out/report.md" || fail "report.md lacks $section"
done
grep -q "wasm-aot against native" "$out/report.md" || fail "no finding against native"

# A Redis it cannot reach is named.
expect_exit 1 "$LUMOS" run --direct --group xs --runs 2 --warmup 0 --functions fibonacci \
  --runtimes native --out "$TMP/run2" --timeout 1 --redis 127.0.0.1:1
contains "$ERR" "cannot connect to redis"
echo ok
