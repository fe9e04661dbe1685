# lumos run SPEC: an experiment through the platform. One row per request
# sent in every cell, the client's and the gateway's timestamps of each
# request in order, cold cells hold only cold rows and warm cells only warm
# ones, a SIGKILL mid-run and --resume give the cells and row counts of an
# uninterrupted run, and bad specs and traces fail before any work.
source "$(dirname "$0")/lib.sh"

cat >"$TMP/small.json" <<'EOF'
{
  "name": "small",
  "functions": ["fibonacci", "noop"],
  "runtimes": ["native", "wasm-aot"],
  "skip_unavailable": false,
  "payloads": ["group:xs"],
  "starts": ["cold", "warm"],
  "loads": [
    {"closed": 1, "requests": 3},
    {"closed": 2, "requests": 4},
    {"open_rps": 10, "duration_s": 0.5, "arrival": "constant"}
  ],
  "repetitions": 2,
  "warmup": 1,
  "timeout_ms": 20000,
  "platform": {"defaults": {"max_scale": 4, "autoscaler": "none", "idle_timeout_ms": 60000}}
}
EOF
q() { sqlite3 "$1" "$2"; }

# 1. The whole run.
expect_exit 0 "$LUMOS" run "$TMP/small.json" --db "$TMP/a/results.db" --json
db=$TMP/a/results.db
[[ -f $TMP/a/report.md && -f $TMP/a/summary.json && -f $TMP/a/gateway.log ]] ||
  fail "report files missing: $(ls "$TMP/a")"
cells=$(q "$db" "SELECT count(*) FROM cells")
[[ $cells == 48 ]] || fail "$cells cells, not 2 reps x 3 loads x 2 functions x 2 runtimes x 2 starts"
[[ $(q "$db" "SELECT count(*) FROM cells WHERE status != 'done' OR error IS NOT NULL") == 0 ]] ||
  fail "cells not done: $(q "$db" "SELECT name, status, error FROM cells WHERE status != 'done' OR error IS NOT NULL")"
# Exactly one row per request sent: measured (3, 4, or 5 open-loop), plus
# one warm-up per client in warm cells.
bad=$(q "$db" "SELECT c.name, (SELECT count(*) FROM requests q WHERE q.cell_id = c.id) AS n,
  c.planned_requests + CASE WHEN c.start = 'warm' THEN coalesce(c.concurrency, 1) ELSE 0 END AS want
  FROM cells c WHERE n != want")
[[ -z $bad ]] || fail "rows per cell: $bad"
[[ $(q "$db" "SELECT count(*) FROM requests WHERE cell_id IS NULL") == 0 ]] ||
  fail "requests outside any cell"
# Every request has the client's times, and its timestamps are in order.
[[ $(q "$db" "SELECT count(*) FROM requests WHERE intended_send_ns IS NULL OR send_ns IS NULL
  OR receive_ns IS NULL") == 0 ]] || fail "requests without the client's times"
disorder=$(q "$db" "SELECT id FROM requests WHERE NOT (intended_send_ns <= send_ns
  AND send_ns <= ingress_ns AND ingress_ns <= dispatch_ns AND dispatch_ns <= result_ns
  AND result_ns <= response_ns AND response_ns <= receive_ns)")
[[ -z $disorder ]] || fail "timestamps out of order in requests: $disorder"
# Cold cells count only cold rows, warm cells only warm ones; none was
# excluded here (nothing else runs), and warm-ups are marked.
[[ $(q "$db" "SELECT count(*) FROM requests q JOIN cells c ON c.id = q.cell_id
  WHERE q.excluded IS NULL AND ((c.start = 'cold' AND q.cold != 1) OR (c.start = 'warm' AND q.cold != 0))") == 0 ]] ||
  fail "a counted row's start type is not its cell's"
[[ $(q "$db" "SELECT count(*) FROM requests WHERE excluded IS NOT NULL AND excluded != 'warm-up'") == 0 ]] ||
  fail "rows excluded for their start type: $(q "$db" "SELECT cell_id, excluded FROM requests WHERE excluded != 'warm-up'")"
[[ $(q "$db" "SELECT count(*) FROM requests WHERE excluded = 'warm-up'") == 32 ]] ||
  fail "warm-ups: $(q "$db" "SELECT count(*) FROM requests WHERE excluded = 'warm-up'") of 32 (1 per client in each warm cell)"
# The machine, the spec and the artifacts are in the file.
for k in machine.cpu_model machine.cores_online machine.mem_bytes machine.kernel \
  machine.runtime.native machine.runtime.wasm-aot experiment.spec experiment.name; do
  [[ -n $(q "$db" "SELECT value FROM meta WHERE key = '$k'") ]] || fail "meta $k missing"
done
[[ $(q "$db" "SELECT count(*) FROM artifacts WHERE bytes > 0 AND function = 'noop'") -ge 2 ]] ||
  fail "artifacts: $(q "$db" "SELECT * FROM artifacts")"
# The gateway stopped with the run.
sleep 0.2
pgrep -f "serve --port 0 --results $db" >/dev/null && fail "the gateway outlived the run"

# 2. SIGKILL in the middle, then --resume: the same cells and row counts.
"$LUMOS" run "$TMP/small.json" --db "$TMP/b/results.db" >"$TMP/b.out" 2>&1 &
pid=$!
for _ in $(seq 300); do
  [[ -f $TMP/b/results.db ]] &&
    (($(q "$TMP/b/results.db" "SELECT count(*) FROM cells WHERE status = 'done'" 2>/dev/null || echo 0) >= 10)) && break
  sleep 0.1
done
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
for _ in $(seq 100); do
  pgrep -f "serve --port 0 --results $TMP/b/results.db" >/dev/null || break
  sleep 0.1
done
pgrep -f "serve --port 0 --results $TMP/b/results.db" >/dev/null && fail "the gateway outlived a SIGKILLed run"
done_before=$(q "$TMP/b/results.db" "SELECT count(*) FROM cells WHERE status = 'done'")
((done_before >= 10 && done_before < 48)) || fail "killed after $done_before cells, not mid-run"
expect_exit 0 "$LUMOS" run "$TMP/small.json" --resume --db "$TMP/b/results.db"
contains "$ERR" "$done_before of 48 cells were done already"
contains "$ERR" "resuming $TMP/b/results.db: $done_before of 48 cells done, $((48 - done_before)) to run:"
shape="SELECT c.id, c.name, c.status, (SELECT count(*) FROM requests q WHERE q.cell_id = c.id),
  (SELECT count(*) FROM requests q WHERE q.cell_id = c.id AND q.excluded IS NULL) FROM cells c ORDER BY c.id"
[[ $(q "$TMP/b/results.db" "$shape") == "$(q "$db" "$shape")" ]] ||
  fail "resumed run differs: $(diff <(q "$TMP/b/results.db" "$shape") <(q "$db" "$shape") | head)"
[[ $(q "$TMP/b/results.db" "SELECT count(*) FROM requests WHERE cell_id IS NULL") == 0 ]] ||
  fail "rows of the killed attempt outside a cell"
# Resuming a complete run does nothing; the spec must be the same one.
expect_exit 0 "$LUMOS" run "$TMP/small.json" --resume --db "$TMP/b/results.db"
contains "$ERR" "48 of 48 cells were done already; ran 0"
sed 's/"repetitions": 2/"repetitions": 3/' "$TMP/small.json" >"$TMP/other.json"
expect_exit 1 "$LUMOS" run "$TMP/other.json" --resume --db "$TMP/b/results.db"
contains "$ERR" "was not written by this spec"

# A request whose start type is not its cell's is kept and left out: with
# no warm-up, a warm cell's first request meets no instance and is cold.
cat >"$TMP/nowarm.json" <<'EOF'
{"functions": ["noop"], "runtimes": ["native"], "payloads": ["group:xs"], "starts": ["warm"],
 "loads": [{"closed": 1, "requests": 3}], "repetitions": 1, "warmup": 0,
 "platform": {"defaults": {"autoscaler": "none"}}}
EOF
expect_exit 0 "$LUMOS" run "$TMP/nowarm.json" --db "$TMP/c/results.db"
contains "$ERR" "1 requests started otherwise than their cell says"
[[ $(q "$TMP/c/results.db" "SELECT group_concat(coalesce(excluded, '-'), ',') FROM
  (SELECT excluded FROM requests ORDER BY id)") == "cold in a warm cell,-,-" ]] ||
  fail "the cold request of a warm cell: $(q "$TMP/c/results.db" "SELECT id, cold, excluded FROM requests")"

# 3. Bad input fails before any work: no database is made.
bad() { # name json expected-message
  printf '%s' "$2" >"$TMP/$1.json"
  expect_exit 1 "$LUMOS" run "$TMP/$1.json" --db "$TMP/bad-$1/results.db"
  contains "$ERR" "$TMP/$1.json"
  contains "$ERR" "$3"
  [[ ! -e $TMP/bad-$1 ]] || fail "$1: work started ($(ls "$TMP/bad-$1"))"
}
base='"runtimes":["native"],"payloads":["group:xs"]'
bad fn '{"functions":["fibonaci"],'"$base"'}' 'functions[0]: unknown function "fibonaci"'
bad rt '{"functions":["noop"],"runtimes":["native","wasm-foo"],"payloads":["group:xs"]}' \
  'runtimes[1]: unknown runtime "wasm-foo"'
bad rate '{"functions":["noop"],'"$base"',"loads":[{"open_rps":-5,"duration_s":1}]}' \
  'loads[0].open_rps: must be a number over 0'
bad key '{"functions":["noop"],'"$base"',"repetition":3}' 'repetition: unknown key'
bad payload '{"functions":["noop"],"runtimes":["native"],"payloads":["group:9"]}' \
  'payloads[0]: unknown payload "group:9"'
bad syntax '{"functions":["noop"],' 'not valid JSON'
bad platform '{"functions":["noop"],'"$base"',"platform":{"defaults":{"max_scale":0}}}' 'platform:'
: >"$TMP/empty.json"
expect_exit 1 "$LUMOS" run "$TMP/empty.json" --db "$TMP/bad-empty/results.db"
[[ ! -e $TMP/bad-empty ]] || fail "empty spec: work started"
# Traces are checked before any work too, with file, line and field named.
trace_bad() { # name trace-body expected-message
  printf '%s' "$2" >"$TMP/$1.csv"
  printf '{"functions":["noop"],%s,"loads":[{"trace":"%s.csv"}]}' "$base" "$1" >"$TMP/t-$1.json"
  expect_exit 1 "$LUMOS" run "$TMP/t-$1.json" --db "$TMP/bad-t-$1/results.db"
  contains "$ERR" "$1.csv"
  contains "$ERR" "$3"
  [[ ! -e $TMP/bad-t-$1 ]] || fail "trace $1: work started"
}
hdr='# lumos-trace 1 mode=open
'
trace_bad unsorted "${hdr}offset_us,function,runtime,payload,start
5,noop,native,group:xs,any
1,noop,native,group:xs,any
" ':4: offset_us'
trace_bad column "${hdr}offset_us,function,runtime,start
0,noop,native,any
" 'payload'
trace_bad tfn "${hdr}offset_us,function,runtime,payload,start
0,nosuch,native,group:xs,any
" ':3: function'
trace_bad tempty "" 'tempty.csv'
# An existing database is never overwritten.
expect_exit 1 "$LUMOS" run "$TMP/small.json" --db "$db"
contains "$ERR" "exists: pass --resume"
# --check lists the cells and runs nothing.
expect_exit 0 "$LUMOS" run "$TMP/small.json" --check
contains "$OUT" "48 cells"
contains "$OUT" "fibonacci@native/group:xs/cold/closed:1x3/rep1"
echo ok
