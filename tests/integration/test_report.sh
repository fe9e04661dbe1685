# lumos report DB: the summary of a results database, from lumos run or from
# lumos serve --results, with the numbers lumos run prints for the same
# rows. Each is checked against a computation of its own here (jq over the
# raw rows: requests.csv of the run, the requests table of the platform),
# so a report that read the rows wrong would differ. Bad inputs are refused
# with a clear error.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"

# expected: reads "function runtime kind status latency_ms cpu_ms compute_ms
# cold_start_ms" lines and prints the statistics lumos run's summary has, as
# JSON: warm requests are kind "warm" with a 2xx status; the cold start is
# the first cold row's that has one; percentiles interpolate linearly.
expected() {
  jq -R -s '
    def pct($p): sort as $s | ($s | length) as $n
      | if $n == 0 then 0 else ($p / 100 * ($n - 1)) as $r | ($r | floor) as $lo
        | if $lo + 1 >= $n then $s[$n - 1] else $s[$lo] + ($s[$lo + 1] - $s[$lo]) * ($r - $lo) end end;
    [split("\n")[] | select(length > 0) | split(" ")
     | {f: .[0], r: .[1], kind: .[2], status: (.[3] | tonumber), lat: (.[4] | tonumber),
        cpu: (.[5] | tonumber), compute: (.[6] | tonumber), cold: (.[7] | tonumber)}]
    | group_by([.f, .r]) | map(
        (map(select(.kind == "warm" and .status >= 200 and .status < 300))) as $w
        | {function: .[0].f, runtime: .[0].r, warm_ok: ($w | length),
           failed: (map(select(.status < 200 or .status > 299)) | length),
           cold_start_ms: ((map(select(.kind == "cold" and .cold > 0)) | first | .cold) // -1),
           latency_median_ms: ($w | map(.lat) | pct(50)),
           latency_p95_ms: ($w | map(.lat) | pct(95)),
           compute_median_ms: ($w | map(.compute) | pct(50)),
           cpu_median_ms: ($w | map(.cpu) | pct(50))})'
}

# same EXPECTED REPORT: every pair of EXPECTED is in REPORT's results with
# the same values (to 1e-9 ms: the raw rows are exact to the nanosecond).
same() {
  jq -n --argjson e "$1" --argjson r "$2" '
    [$e[] as $x | ($r.results[] | select(.function == $x.function and .runtime == $x.runtime)) as $y
     | $x | to_entries[] | select(.key != "function" and .key != "runtime")
     | select((.value - $y[.key]) | fabs > 1e-9) | "\($x.function)@\($x.runtime) \(.key): \(.value) != \($y[.key])"]
    | if length == 0 and ($e | length) == ($r.results | length) then empty
      else (.[], "pairs \($e | length) against \($r.results | length)") end' |
    { ! grep . >&2; } || fail "the report differs from the rows (above)"
}

# 1. lumos run: what it prints is what lumos report prints of its database,
# and both are what the raw rows of requests.csv say.
out=$TMP/run
expect_exit 0 "$LUMOS" run --direct --group xs --runs 5 --warmup 2 --functions fibonacci,prime-numbers \
  --runtimes native,wasm-aot --out "$out" --json
run_json=$OUT
expect_exit 0 "$LUMOS" report "$out/results.db" --json
[[ $OUT == "$run_json" ]] || fail "lumos report differs from lumos run: $OUT"
[[ $(echo "$OUT" | jq -r '.source, .group, .runs, .warmup' | tr '\n' ' ') == "run xs 5 2 " ]] ||
  fail "run settings: $OUT"
rows=$(awk -F, 'NR > 1 { print $1, $2, $5, $7, $10, $20, $13 / 1e6, $8 }' "$out/requests.csv")
[[ $(echo "$rows" | wc -l) == 32 ]] || fail "requests.csv: $(echo "$rows" | wc -l) rows"
same "$(echo "$rows" | expected)" "$OUT"
expect_exit 0 "$LUMOS" report "$out/results.db"
contains "$OUT" "group xs, 5 warm runs after 2 warm-up"
contains "$OUT" "prime-numbers"
contains "$OUT" "wasm-aot against native, geometric mean over 2 functions"
# A second run into the same folder replaces the first one's rows.
expect_exit 0 "$LUMOS" run --direct --group xs --runs 1 --warmup 0 --functions fibonacci --runtimes native \
  --out "$TMP/twice"
expect_exit 0 "$LUMOS" run --direct --group xs --runs 2 --warmup 0 --functions fibonacci --runtimes native \
  --out "$TMP/twice" --json
[[ $(sqlite3 "$TMP/twice/results.db" 'select count(*) from requests') == 3 ]] ||
  fail "the second run's database holds $(sqlite3 "$TMP/twice/results.db" 'select count(*) from requests') requests, not 3"
[[ $(echo "$OUT" | jq '.results[0].warm_ok') == 2 ]] || fail "second run: $OUT"
# --out writes the report files from the database alone.
expect_exit 0 "$LUMOS" report "$out/results.db" --out "$TMP/again"
cmp "$out/summary.csv" "$TMP/again/summary.csv" || fail "summary.csv differs"
grep -q "^## Findings" "$TMP/again/report.md" || fail "no findings in the report"

# 2. lumos serve --results: cold and warm requests, a forced cold start, a
# crash, a function error and a 404; the report of its database against
# the rows of its requests table.
db=$TMP/serve.db
serve --results "$db" --idle-timeout 60000
post /function/fibonacci@native '{"n":93}'
[[ $CODE == 200 ]] || fail "cold request: $CODE $BODY"
for i in 1 2 3 4 5 6; do post /function/fibonacci@native "{\"n\":$((i * 1000))}"; done
post /function/fibonacci@native '{"n":10}' -H 'X-Lumos-Start: cold'
post /function/fibonacci@native '{"n":"x"}'
[[ $CODE == 400 ]] || fail "bad input: $CODE"
post /function/fibonacci@wasm-aot '{"n":5}'
post /function/fibonacci@wasm-aot '{"n":6}'
post /function/faulty@native '{"mode":"segv"}'
[[ $CODE == 502 ]] || fail "crash: $CODE $BODY"
post /function/no-such-function '{}'
[[ $CODE == 404 ]] || fail "unknown function: $CODE"
stop_serve
expect_exit 0 "$LUMOS" report "$db" --json
[[ $(echo "$OUT" | jq -r '.source, .group, .runs' | tr '\n' ' ') == "serve null null " ]] ||
  fail "a platform's database has no run settings: $OUT"
[[ $(echo "$OUT" | jq '.results | length') == 3 ]] || fail "3 services expected: $OUT"
[[ $(echo "$OUT" | jq '.results[] | select(.runtime == "native" and .function == "fibonacci") | .warm_ok, .failed' | tr '\n' ' ') == "6 1 " ]] ||
  fail "fibonacci@native: 6 warm answers and 1 failure expected: $OUT"
rows=$(sqlite3 -separator ' ' "$db" "
  SELECT s.function, s.runtime, CASE WHEN q.cold = 1 THEN 'cold' ELSE 'warm' END,
         coalesce(q.status_http, 0), coalesce((q.result_ns - q.dispatch_ns) / 1e6, 0),
         coalesce(q.cpu_ns / 1e6, 0), coalesce(q.compute_ns / 1e6, 0),
         CASE WHEN q.cold = 1 THEN coalesce(i.cold_start_ms, 0) ELSE 0 END
  FROM requests q JOIN services s ON s.id = q.service_id
  LEFT JOIN instances i ON i.id = q.instance_id ORDER BY q.id")
same "$(echo "$rows" | expected)" "$OUT"
expect_exit 0 "$LUMOS" report "$db"
contains "$OUT" "recorded by lumos serve"

# 3. Bad inputs.
expect_exit 2 "$LUMOS" report
contains "$ERR" "which database"
expect_exit 2 "$LUMOS" report "$db" --no-such-option
expect_exit 1 "$LUMOS" report "$TMP/missing.db"
contains "$ERR" "$TMP/missing.db"
echo "not a database" >"$TMP/text.db"
expect_exit 1 "$LUMOS" report "$TMP/text.db"
contains "$ERR" "$TMP/text.db"
sqlite3 "$TMP/other.db" 'create table t(x); pragma user_version = 0'
expect_exit 1 "$LUMOS" report "$TMP/other.db"
contains "$ERR" "not a Lumos results database"
cp "$db" "$TMP/newer.db"
sqlite3 "$TMP/newer.db" 'pragma user_version = 99'
expect_exit 1 "$LUMOS" report "$TMP/newer.db"
contains "$ERR" "newer than this Lumos knows"
echo ok
