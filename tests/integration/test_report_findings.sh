# Findings on crafted databases with known differences, and bad input.
# The files are built here with sqlite3 on the schema of a real file
# (`lumos run --direct` makes one): a runtime twice as slow as native is
# reported so, with an interval that holds 2; one drawn from the same
# distribution, and one with the very same values, give no finding. Bad
# input: an empty database, a newer schema, a cell with no successful
# request, a runtime missing from a cell, no gnuplot, bad options: clear
# messages, and a report of what is there.
source "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
check=$here/report_check.py

expect_exit 0 "$LUMOS" run --direct --group xs --runs 1 --warmup 0 --functions fibonacci \
  --runtimes native --out "$TMP/real"
version=$(sqlite3 "$TMP/real/results.db" 'pragma user_version')
sqlite3 "$TMP/real/results.db" .schema >"$TMP/schema.sql"
# new_db FILE: an empty results database of the real file's schema.
new_db() {
  { cat "$TMP/schema.sql"
    echo "PRAGMA user_version = $version;"
    echo "INSERT INTO meta VALUES('schema_version', $version);"; } | sqlite3 "$1"
}

# 1. Known differences.
new_db "$TMP/c.db"
python3 "$check" crafted | sqlite3 "$TMP/c.db"
expect_exit 0 "$LUMOS" report "$TMP/c.db" --format json
echo "$OUT" >"$TMP/c.json"
python3 "$check" findings "$TMP/c.json" || fail "findings on the crafted file"
# The cell without a successful request and the runtime missing from
# prime-numbers' cell are said, on stderr and in the notes.
contains "$ERR" "fibonacci@wasm-baseline/group:xs/warm/closed:1: no successful request (200 of 200 failed, the first: boom)"
contains "$ERR" "wasm-jit did not run 1 cell that other runtimes ran (prime-numbers/group:xs/warm/closed:1)"
[[ $(jq '.notes | length' "$TMP/c.json") -ge 3 ]] || fail "notes: $(jq .notes "$TMP/c.json")"
# ... and the rest is reported: prime-numbers on the two runtimes that ran it.
[[ $(jq '[.comparisons[] | select(.topic == "warm" and (.cell | startswith("prime-numbers@wasm-aot")))] | length' "$TMP/c.json") == 1 ]] ||
  fail "prime-numbers' comparison"
expect_exit 0 "$LUMOS" report "$TMP/c.db" --out "$TMP/c"
grep -q 'no successful request: boom' "$TMP/c/index.html" || fail "the failed cell's row"
python3 "$check" cells "$TMP/c.db" "$TMP/c/index.html" || fail "crafted cells table"
# --baseline changes what the ratios are to; an unknown one is refused.
expect_exit 0 "$LUMOS" report "$TMP/c.db" --format json --baseline wasm-aot
[[ $(echo "$OUT" | jq -r '[.comparisons[] | select(.topic == "warm" and .runtime == "native")][0].ratio < 0.6') == true ]] ||
  fail "--baseline wasm-aot: native should be about half"
expect_exit 2 "$LUMOS" report "$TMP/c.db" --format text --baseline wasm-foo
contains "$ERR" "--baseline wasm-foo: no cell ran on it (runtimes in $TMP/c.db: native, wasm-aot, wasm-jit, wasm-interp, wasm-baseline)"

# Schema 4's cold-start phases (instances.phase_*_ns), where a file has
# them, are the cold start's parts: -1 is unknown and left out.
cp "$TMP/c.db" "$TMP/phases.db"
# (A file of schema 4 has them all already; an older one gets these.)
has() { [[ $(sqlite3 "$TMP/phases.db" "SELECT count(*) FROM pragma_table_info('instances') WHERE name = '$1'") == 1 ]]; }
for ph in placement spawn load init; do
  has "phase_${ph}_ns" || sqlite3 "$TMP/phases.db" "ALTER TABLE instances ADD COLUMN phase_${ph}_ns INTEGER"
done
has phase_clock || sqlite3 "$TMP/phases.db" "ALTER TABLE instances ADD COLUMN phase_clock TEXT"
sqlite3 "$TMP/phases.db" "UPDATE instances SET phase_placement_ns = 1000000, phase_spawn_ns = 500000,
    phase_load_ns = CASE WHEN runtime = 'native' THEN 0 ELSE 4000000 END, phase_init_ns = -1,
    phase_clock = 'monotonic'"
expect_exit 0 "$LUMOS" report "$TMP/phases.db" --out "$TMP/phases"
# Columns by name: the file may have every phase (schema 4) or these four.
col() { # service column -> value
  awk -F, -v s="$1" -v c="$2" 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
    $1 == s { print $(h[c]) }' "$TMP/phases/figures/cold-phases.csv"
}
for c in "placement ms:1" "spawn ms:0.5" "load ms:4" "init ms:NaN" "instances:1"; do
  [[ $(col fibonacci@wasm-aot "${c%%:*}") == "${c##*:}" ]] ||
    fail "phases of wasm-aot, ${c%%:*}: $(cat "$TMP/phases/figures/cold-phases.csv")"
done
grep -q 'phase_\*_ns columns' "$TMP/phases/index.html" || fail "the caption of measured phases"
expect_exit 0 "$LUMOS" report "$TMP/c.db" --format text
[[ $OUT == *"cold start by part (placement; exec to READY)"* || $OUT == *"cold start by phase"* ]] || fail "no cold start section: ${OUT:0:300}"

# A trace replay's timeline: its services' requests, the cold ones, and
# the events of its services in its time (not another service's).
cp "$TMP/c.db" "$TMP/trace.db"
{
  echo "INSERT INTO cells(id, name, load, repetition, status) VALUES(100, 'trace:t.csv/rep1', 'trace', 1, 'done');"
  for i in $(seq 1 20); do
    t=$((5000000000 + i * 100000000))
    echo "INSERT INTO requests(id, service_id, instance_id, status_http, cold, intended_send_ns,
      send_ns, ingress_ns, dispatch_ns, result_ns, response_ns, receive_ns, cell_id) VALUES(
      $((10000 + i)), $((i % 2 + 1)), 'native-1', 200, $((i % 5 == 0)), $t, $t, $((t + 1000)),
      $((t + 2000)), $((t + 2000000)), $((t + 2100000)), $((t + 2200000)), 100);"
  done
  for t in 5500000000 6000000000 6500000000; do
    echo "INSERT INTO events(t_ns, kind, service_id, detail_json) VALUES($t, 'scale', 1, '{}');"
  done
  echo "INSERT INTO events(t_ns, kind, service_id, detail_json) VALUES(6000000000, 'oom', 99, '{}');"
} | sqlite3 "$TMP/trace.db"
expect_exit 0 "$LUMOS" report "$TMP/trace.db" --out "$TMP/trace"
tl=$TMP/trace/figures/timeline-cell-100.csv
[[ $(head -1 "$tl") == "fibonacci@wasm-aot t s,fibonacci@wasm-aot e2e ms,fibonacci@native t s,fibonacci@native e2e ms,cold start t s,cold start e2e ms,scale event t s,scale event mark" ]] ||
  fail "timeline columns: $(head -1 "$tl")"
[[ $(awk -F, 'NR > 1 && $5 != "NaN"' "$tl" | wc -l) == 4 ]] || fail "timeline's cold requests: $(cat "$tl")"
[[ $(awk -F, 'NR > 1 && $7 != "NaN" { printf "%s ", $7 }' "$tl") == "0.4 0.9 1.4 " ]] ||
  fail "timeline's scale events: $(cat "$tl")"
[[ -s ${tl%.csv}.svg ]] || fail "the timeline is not drawn"

# 2. No gnuplot: the data and scripts, no images, a note, and still a page
# with no missing resource.
expect_exit 0 "$LUMOS" report "$TMP/c.db" --out "$TMP/nognuplot" --gnuplot no-such-gnuplot
contains "$ERR" "gnuplot not found: the figures' data and scripts are in $TMP/nognuplot/figures, no images (scripts/setup installs gnuplot-nox)"
contains "$OUT" "(0 figures)"
[[ -s $TMP/nognuplot/figures/e2e-warm.csv && -s $TMP/nognuplot/figures/e2e-warm.gp ]] || fail "no figure data"
! grep -q '<img' "$TMP/nognuplot/index.html" || fail "an image that was not drawn is on the page"
rc=0
python3 "$here/cdp_check.py" "$TMP/nognuplot/index.html" >"$TMP/cdp.out" 2>&1 || rc=$?
[[ $rc == 0 || $rc == 77 ]] || fail "the page without figures in Chromium: $(cat "$TMP/cdp.out")"

# 3. An empty database: a report of what is there.
new_db "$TMP/empty.db"
expect_exit 0 "$LUMOS" report "$TMP/empty.db" --out "$TMP/empty"
contains "$ERR" "$TMP/empty.db holds no requests: there is nothing to measure"
grep -q 'holds no requests' "$TMP/empty/index.html" || fail "the empty file's page says nothing"
expect_exit 0 "$LUMOS" report "$TMP/empty.db" --format text
contains "$OUT" "0 requests in 0"
contains "$OUT" "verdict: not measured here"
expect_exit 0 "$LUMOS" report "$TMP/empty.db" --format json
[[ $(echo "$OUT" | jq '.requests, (.groups | length)' | tr '\n' ' ') == "0 0 " ]] || fail "empty JSON: $OUT"

# 4. A newer schema, and files that are not results databases.
cp "$TMP/c.db" "$TMP/newer.db"
sqlite3 "$TMP/newer.db" 'pragma user_version = 99'
expect_exit 1 "$LUMOS" report "$TMP/newer.db" --format html --out "$TMP/newer"
contains "$ERR" "results database $TMP/newer.db has schema version 99, newer than this Lumos knows"
expect_exit 1 "$LUMOS" report "$TMP/none.db" --format text
contains "$ERR" "$TMP/none.db"

# 5. Bad options.
expect_exit 2 "$LUMOS" report "$TMP/c.db" --format pdf
contains "$ERR" "--format: 'pdf' is not text, json or html"
expect_exit 2 "$LUMOS" report "$TMP/c.db" --format html
contains "$ERR" "--format html needs --out DIR"
expect_exit 2 "$LUMOS" report "$TMP/c.db" --format json --json
contains "$ERR" "give one"
expect_exit 2 "$LUMOS" report "$TMP/c.db" --slo-ms -3
contains "$ERR" "--slo-ms: '-3' is not a number of ms over 0"
echo ok
