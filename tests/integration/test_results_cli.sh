# lumos results summary and export: a schema-3 file made by lumos serve and
# filled with known rows (results_check.py fixture: cells on three runtimes,
# excluded rows, a failure, a cell without client times, a cell too small
# for a median interval, an empty cell, requests of no cell), its summary
# recomputed from the database alone by results_check.py (Python's sqlite3
# and statistics, the bootstrap written out again), the --json, --csv and
# table shapes, every table exported as CSV and JSON and read back, a
# schema-1 file of lumos run, and bad inputs with their messages.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
check="python3 $(dirname "$0")/results_check.py"

# 1. The fixture: an empty file of this Lumos' schema, then the rows.
db=$TMP/cells.db
serve --results "$db"
stop_serve
# A file that holds no request yet: a summary of nothing, said, not a crash
# (the sanitizer build catches sorting an empty list).
cp "$db" "$TMP/empty.db"
expect_exit 0 "$LUMOS" results summary "$TMP/empty.db"
contains "$ERR" "holds no request of a service"
$check fixture | sqlite3 "$db"
[[ $(sqlite3 "$db" 'select count(*) from cells') == 7 ]] || fail "fixture: cells"

# 2. Summary by cell (the default), against the recomputation.
expect_exit 0 "$LUMOS" results summary "$db" --json
echo "$OUT" >"$TMP/cells.json"
$check summary "$db" "$TMP/cells.json" cell native >/dev/null || fail "summary by cell differs"
[[ $(echo "$OUT" | jq -r '.by, .metric, .unit, .level, .schema_version, .unassigned_requests' | tr '\n' ' ') == "cell e2e ms 0.95 6 2 " ]] ||
  fail "summary header: $(echo "$OUT" | jq -c 'del(.groups, .ratios)')"
[[ $(echo "$OUT" | jq -r '.ratios | .baseline, .statistic, .method, .resamples, .seed' | tr '\n' ' ') == "native median percentile bootstrap 2000 1 " ]] ||
  fail "ratios header: $(echo "$OUT" | jq -c '.ratios | del(.rows)')"
# Cell 1: two rows of the other start excluded, one failure; cell 3 has no
# client times (the gateway's view); cell 4 is too small for a median
# interval; cell 7 has no request.
[[ $(echo "$OUT" | jq -c '[.groups[] | [.cell_id, .count, .excluded, .errors, .n, .source]]') == '[[1,31,2,1,30,"client"],[2,30,0,0,30,"client"],[3,12,0,0,12,"gateway"],[4,5,0,0,5,"client"],[5,5,0,0,5,"client"],[6,8,0,0,8,"client"],[7,0,0,0,0,null]]' ]] ||
  fail "cells: $(echo "$OUT" | jq -c '[.groups[] | [.cell_id, .count, .excluded, .errors, .n, .source]]')"
[[ $(echo "$OUT" | jq '.groups[3] | [.ci95_median_lo_ms, .ci95_mean_lo_ms != null]') == "$(jq -n '[null, true]')" ]] ||
  fail "n = 5: a mean interval and no median interval expected"
[[ $(echo "$OUT" | jq -r '.groups[0] | keys_unsorted | join(",")') == "cell_id,cell,function,runtime,payload,start,load,concurrency,rate_rps,repetition,status,source,count,excluded,errors,missing,n,mean_ms,median_ms,p90_ms,p99_ms,p999_ms,sd_ms,cv,min_ms,max_ms,ci95_mean_lo_ms,ci95_mean_hi_ms,ci95_median_lo_ms,ci95_median_hi_ms,ci95_median_rank_lo,ci95_median_rank_hi,ci95_median_coverage" ]] ||
  fail "group keys: $(echo "$OUT" | jq -r '.groups[0] | keys_unsorted | join(",")')"
[[ $(echo "$OUT" | jq -c '[.ratios.rows[] | [.cell, .median_ratio != null]]') == '[["fibonacci@wasm-aot/group:1/warm/closed/1",true],["fibonacci@wasm-interp/group:1/warm/closed/1",true],["fibonacci@wasm-aot/group:1/cold/closed/1",true],["fibonacci@wasm-aot/group:1/warm/closed/2",false]]' ]] ||
  fail "ratio rows: $(echo "$OUT" | jq -c '.ratios.rows')"
[[ $(echo "$OUT" | jq -r '.ratios.rows[3].ratio_error') == "no values on the baseline's side" ]] ||
  fail "a ratio to an empty cell: $(echo "$OUT" | jq -c '.ratios.rows[3]')"
# The same seed, the same numbers; another seed, another interval.
expect_exit 0 "$LUMOS" results summary "$db" --json
[[ $OUT == "$(cat "$TMP/cells.json")" ]] || fail "a second summary differs"
expect_exit 0 "$LUMOS" results summary "$db" --json --seed 2 --resamples 300
echo "$OUT" >"$TMP/seed2.json"
$check summary "$db" "$TMP/seed2.json" cell native >/dev/null || fail "summary with --seed 2 differs"
[[ $(echo "$OUT" | jq '.ratios.rows[0].median_ratio_ci95_lo') != $(jq '.ratios.rows[0].median_ratio_ci95_lo' "$TMP/cells.json") ]] ||
  fail "--seed 2 gave the same interval"
# Another baseline, by service, other metrics.
expect_exit 0 "$LUMOS" results summary "$db" --json --baseline wasm-aot
echo "$OUT" >"$TMP/aot.json"
$check summary "$db" "$TMP/aot.json" cell wasm-aot >/dev/null || fail "summary against wasm-aot differs"
expect_exit 0 "$LUMOS" results summary "$db" --json --by service
echo "$OUT" >"$TMP/svc.json"
$check summary "$db" "$TMP/svc.json" service native >/dev/null || fail "summary by service differs"
[[ $(echo "$OUT" | jq -c '[.groups[] | [.service, .start, .count, .excluded]]') == '[["fibonacci@native","cold",5,2],["fibonacci@native","warm",32,0],["fibonacci@wasm-aot","cold",5,0],["fibonacci@wasm-aot","warm",38,0],["fibonacci@wasm-interp","warm",12,0]]' ]] ||
  fail "by service: $(echo "$OUT" | jq -c '[.groups[] | [.service, .start, .count, .excluded]]')"
expect_exit 0 "$LUMOS" results summary "$db" --json --metric compute
want=$(sqlite3 "$db" "select compute_ns / 1e6 from requests where cell_id = 1 and excluded is null and status_http = 200 order by compute_ns" |
  python3 -c 'import sys, statistics; x = [float(l) for l in sys.stdin]; print(len(x), statistics.median(x))')
[[ $(echo "$OUT" | jq -r '.groups[0] | "\(.n) \(.median_ms) \(.source)"') == "$want compute_ns" ]] ||
  fail "compute of cell 1: $(echo "$OUT" | jq -c '.groups[0] | [.n, .median_ms, .source]') against $want"
expect_exit 0 "$LUMOS" results summary "$db" --json --metric mem
[[ $(echo "$OUT" | jq -r '.unit, (.groups[0] | has("median_bytes"))' | tr '\n' ' ') == "bytes true " ]] ||
  fail "mem: $(echo "$OUT" | jq -c '.groups[0]')"

# 3. The table and CSV: the same groups.
expect_exit 0 "$LUMOS" results summary "$db"
contains "$OUT" "$db: 7 cells, metric e2e (ms); 95% confidence intervals"
contains "$OUT" "median e2e ratio to native: 95% percentile bootstrap, B = 2000 resamples, seed 1"
contains "$OUT" "source client: receive_ns - intended_send_ns, the load client's (coordinated-omission corrected)"
contains "$OUT" "source gateway: response_ns - ingress_ns, the gateway's"
contains "$OUT" "2 requests belong to no cell (left out)"
med=$(jq -r '.groups[1].median_ms * 1000 | round / 1000' "$TMP/cells.json")
echo "$OUT" | grep -q "^fibonacci@wasm-aot/group:1/warm/closed/1 .* $(printf '%.3f' "$med") " ||
  fail "the table's median of cell 2 is not $med: $OUT"
expect_exit 0 "$LUMOS" results summary "$db" --csv
echo "$OUT" >"$TMP/cells.csv"
python3 - "$TMP/cells.csv" "$TMP/cells.json" <<'PY' || fail "CSV and JSON differ"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
js = json.load(open(sys.argv[2]))
assert len(rows) == len(js["groups"]), len(rows)
ratio = {r["cell"]: r for r in js["ratios"]["rows"]}
for row, g in zip(rows, js["groups"]):
    for k, v in g.items():
        assert (row[k] == "") if v is None else (float(row[k]) == v if isinstance(v, (int, float)) else row[k] == v), (k, row[k], v)
    r = ratio.get(g["cell"])
    assert (row["median_ratio"] == "") if not r or r["median_ratio"] is None else abs(float(row["median_ratio"]) - r["median_ratio"]) < 1e-12
PY

# 4. Export: every table as CSV and JSON, read back against its rows.
for t in services instances requests samples events cells artifacts meta; do
  expect_exit 0 "$LUMOS" results export "$db" --table "$t"
  echo "$OUT" >"$TMP/$t.csv"
  expect_exit 0 "$LUMOS" results export "$db" --table "$t" --format json
  echo "$OUT" >"$TMP/$t.json"
  jq -e 'type == "array"' "$TMP/$t.json" >/dev/null || fail "$t.json is not an array"
  $check export "$db" "$t" "$TMP/$t.csv" "$TMP/$t.json" >/dev/null || fail "export of $t"
done
# An empty text is "" and NULL nothing; bytes that are not UTF-8 are U+FFFD in JSON.
grep -qx '6,note,,"",' "$TMP/events.csv" || fail "events.csv: $(cat "$TMP/events.csv")"
[[ $(jq -r '.[2].detail_json' "$TMP/events.json") == "A"$'\xef\xbf\xbd' ]] || fail "events.json: $(cat "$TMP/events.json")"
[[ $(jq '.[0].rate_rps, .[0].concurrency' "$TMP/cells.json" | tr '\n' ' ') == "null 1 " ]] || fail "cells.json types"
[[ $(jq '.[0].placement_ms | tostring' "$TMP/instances.json") == '"0.25"' ]] || fail "a REAL"
# --out: one file per table, the same bytes as stdout.
expect_exit 0 "$LUMOS" results export "$db" --out "$TMP/all"
[[ $(echo "$OUT" | wc -l) == 8 ]] || fail "--out printed: $OUT"
for t in services instances requests samples events cells artifacts meta; do
  cmp -s "$TMP/all/$t.csv" "$TMP/$t.csv" || fail "$TMP/all/$t.csv differs from stdout's"
done
expect_exit 0 "$LUMOS" results export "$db" --out "$TMP/one" --table requests --format json
[[ $OUT == "$TMP/one/requests.json" && $(ls "$TMP/one") == "requests.json" ]] || fail "--table with --out: $OUT"
cmp -s "$TMP/one/requests.json" "$TMP/requests.json" || fail "requests.json differs from stdout's"

# 5. A schema-1 file of lumos run (no cells, no cpu_ns, run.warmup 2): by
# service, cold and warm, its warm-ups excluded; the gateway's latency.
v1=$TMP/v1.db
sqlite3 "$v1" "
CREATE TABLE meta(key TEXT PRIMARY KEY, value);
CREATE TABLE services(id INTEGER PRIMARY KEY, name TEXT, function TEXT, runtime TEXT, config_json TEXT, created_ns INTEGER);
CREATE TABLE instances(id TEXT PRIMARY KEY, service_id INTEGER REFERENCES services(id), runtime TEXT, pid INTEGER, cgroup TEXT, start_ns INTEGER, spawn_ns INTEGER, ready_ns INTEGER, stop_ns INTEGER, end_reason TEXT, exit_status INTEGER, placement_ms REAL, cold_start_ms REAL);
CREATE TABLE requests(id INTEGER PRIMARY KEY, service_id INTEGER REFERENCES services(id), instance_id TEXT REFERENCES instances(id), status_http INTEGER, cold INTEGER, intended_send_ns INTEGER, send_ns INTEGER, ingress_ns INTEGER, queued_ns INTEGER, acquired_ns INTEGER, cold_begin_ns INTEGER, cold_ready_ns INTEGER, dispatch_ns INTEGER, result_ns INTEGER, response_ns INTEGER, receive_ns INTEGER, deser_ns INTEGER, io_ns INTEGER, compute_ns INTEGER, ser_ns INTEGER, func_total_ns INTEGER, io_read_bytes INTEGER, io_write_bytes INTEGER, io_calls INTEGER, cpu_user_ns INTEGER, cpu_system_ns INTEGER, mem_peak_bytes INTEGER, error TEXT);
CREATE TABLE samples(instance_id TEXT REFERENCES instances(id), t_ns INTEGER, cpu_user_ns INTEGER, cpu_system_ns INTEGER, mem_current_bytes INTEGER, mem_peak_bytes INTEGER);
CREATE TABLE events(t_ns INTEGER, kind TEXT, service_id INTEGER, instance_id TEXT, detail_json TEXT);
INSERT INTO meta VALUES('schema_version', 1), ('run.warmup', 2), ('run.group', 'xs');
INSERT INTO services VALUES(1, 'fibonacci@native', 'fibonacci', 'native', '{}', 1);
INSERT INTO requests(id, service_id, status_http, cold, ingress_ns, response_ns, cpu_user_ns, cpu_system_ns)
  VALUES(1, 1, 200, 1, 0, 9000000, 700, 300), (2, 1, 200, 0, 0, 5000000, 1, 1), (3, 1, 200, 0, 0, 5000000, 1, 1),
        (4, 1, 200, 0, 0, 1000000, 1000, 0), (5, 1, 200, 0, 0, 2000000, 1500, 500), (6, 1, 200, 0, 0, 3000000, 2000, 1000),
        (7, 1, 200, 0, 0, 4000000, 2500, 1500), (8, 1, 500, 0, 0, 1, 1, 1);
PRAGMA user_version = 1;"
expect_exit 0 "$LUMOS" results summary "$v1" --json
[[ $(echo "$OUT" | jq -c '[.by, .schema_version, .warmups_excluded, [.groups[] | [.start, .count, .excluded, .errors, .n, .source, .median_ms]]]') == '["service",1,2,[["cold",1,0,0,1,"gateway",9],["warm",5,2,1,4,"gateway",2.5]]]' ]] ||
  fail "schema 1: $(echo "$OUT" | jq -c '[.by, .schema_version, .warmups_excluded, [.groups[] | [.start, .count, .excluded, .errors, .n, .source, .median_ms]]]')"
[[ $(echo "$OUT" | jq -c '.ratios.rows') == '[]' ]] || fail "one runtime, no ratio"
expect_exit 0 "$LUMOS" results summary "$v1" --json --metric cpu
[[ $(echo "$OUT" | jq -c '[.groups[1] | .median_ms, .mean_ms, .source]') == '[0.0025,0.0025,"cpu_ns"]' ]] ||
  fail "schema 1 cpu (user + system): $(echo "$OUT" | jq -c '.groups[1]')"
expect_exit 0 "$LUMOS" results summary "$v1"
contains "$OUT" "2 warm-up requests of lumos run counted as excluded"
expect_exit 0 "$LUMOS" results export "$v1" --out "$TMP/v1"
[[ $(ls "$TMP/v1" | tr '\n' ' ') == "events.csv instances.csv meta.csv requests.csv samples.csv services.csv " ]] ||
  fail "schema 1 export: $(ls "$TMP/v1")"
contains "$ERR" "lumos results: $v1 has no table cells (schema version 1): not written"
[[ $(($(wc -l <"$TMP/v1/requests.csv") - 1)) == 8 ]] || fail "schema 1 requests.csv"
[[ $(sqlite3 "$v1" 'pragma user_version') == 1 ]] || fail "the file was changed"

# 6. A lumos run file: its warm medians are lumos report's (the same rows,
# warm-ups left out, the instance's view). The runner without the platform
# is `lumos run --direct` where `lumos run` runs experiment specs.
direct=()
"$LUMOS" run --help 2>/dev/null | grep -q -- '--direct' && direct=(--direct)
expect_exit 0 "$LUMOS" run "${direct[@]}" --group xs --runs 5 --warmup 2 --functions fibonacci,prime-numbers \
  --runtimes native,wasm-aot --out "$TMP/run" --json
report=$OUT
expect_exit 0 "$LUMOS" results summary "$TMP/run/results.db" --json
mine=$(echo "$OUT" | jq -c '[.groups[] | select(.start == "warm") | [.function, .runtime, .n, .median_ms, .excluded, .source]] | sort')
theirs=$(echo "$report" | jq -c '[.results[] | [.function, .runtime, .warm_ok, .latency_median_ms, 2, "instance"]] | sort')
[[ $mine == "$theirs" ]] || fail "lumos run file: $mine against lumos report's $theirs"
[[ $(echo "$OUT" | jq -c '[.ratios.rows[] | .service] | sort') == '["fibonacci@wasm-aot","fibonacci@wasm-aot","prime-numbers@wasm-aot","prime-numbers@wasm-aot"]' ]] ||
  fail "lumos run file ratios: $(echo "$OUT" | jq -c '.ratios.rows')"

# 7. Bad inputs.
expect_exit 2 "$LUMOS" results
contains "$ERR" "usage: lumos results summary DB"
expect_exit 2 "$LUMOS" results frobnicate
[[ $ERR == "lumos results: unknown subcommand 'frobnicate': use summary or export"* ]] || fail "$ERR"
expect_exit 2 "$LUMOS" results summary
[[ $ERR == "lumos results summary: which database? lumos results summary DB"* ]] || fail "$ERR"
expect_exit 1 "$LUMOS" results summary "$TMP/missing.db"
[[ $ERR == "lumos: results: results database $TMP/missing.db: cannot open it (unable to open database file)" ]] || fail "$ERR"
echo "not a database" >"$TMP/text.db"
expect_exit 1 "$LUMOS" results summary "$TMP/text.db"
[[ $ERR == "lumos: results: results database $TMP/text.db: cannot read it (file is not a database): is it a SQLite database?" ]] || fail "$ERR"
sqlite3 "$TMP/other.db" 'create table t(x)'
expect_exit 1 "$LUMOS" results export "$TMP/other.db" --table meta
[[ $ERR == "lumos: results: $TMP/other.db is not a Lumos results database (no schema version)" ]] || fail "$ERR"
cp "$db" "$TMP/newer.db"
sqlite3 "$TMP/newer.db" 'pragma user_version = 99'
expect_exit 1 "$LUMOS" results summary "$TMP/newer.db"
contains "$ERR" "has schema version 99, newer than this Lumos knows (6)"
expect_exit 2 "$LUMOS" results summary "$db" --metric latency
[[ $ERR == "lumos results summary: unknown metric 'latency': use e2e, gateway, instance, compute, io, deser, ser, cpu or mem"* ]] || fail "$ERR"
expect_exit 2 "$LUMOS" results summary "$db" --by runtime
[[ $ERR == "lumos results summary: --by is cell or service, not 'runtime'"* ]] || fail "$ERR"
expect_exit 2 "$LUMOS" results summary "$db" --json --csv
expect_exit 2 "$LUMOS" results summary "$db" --resamples 0
expect_exit 1 "$LUMOS" results summary "$db" --baseline wasm-jit
[[ $ERR == "lumos: results: no cell ran on runtime 'wasm-jit' (runtimes in $db: native, wasm-aot, wasm-interp)" ]] || fail "$ERR"
expect_exit 1 "$LUMOS" results summary "$v1" --by cell
[[ $ERR == "lumos: results: $v1 has no cells (its schema predates them): use --by service" ]] || fail "$ERR"
expect_exit 2 "$LUMOS" results export "$db" --table nosuch
[[ $ERR == "lumos results export: unknown table 'nosuch': use services, instances, requests, samples, events, cells, artifacts or meta"* ]] || fail "$ERR"
expect_exit 2 "$LUMOS" results export "$db" --format xml --table meta
[[ $ERR == "lumos results export: --format is csv or json, not 'xml'"* ]] || fail "$ERR"
expect_exit 2 "$LUMOS" results export "$db"
[[ $ERR == "lumos results export: which table? --table T prints one, --out DIR writes every table"* ]] || fail "$ERR"
expect_exit 1 "$LUMOS" results export "$v1" --table cells
[[ $ERR == "lumos: results: results database $v1 has no table cells (its schema version is 1; cells and artifacts came with version 3)" ]] || fail "$ERR"
expect_exit 0 "$LUMOS" results summary --help
contains "$OUT" "--metric M"
expect_exit 0 "$LUMOS" results export --help
contains "$OUT" "--format F"
echo ok
