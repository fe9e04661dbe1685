# lumos model: a schema-3 file made by lumos serve and filled with rows of a
# known cost (model_fixture.py: fibonacci's compute_ns = (5000 + 3 n) r at
# n = 10^3 .. 10^6, the same relative residuals r at every payload), its
# slope recovered, a held-out payload predicted with no error and, when
# that payload's compute is moved by 25%, reported 20% off (1 / 1.25 - 1);
# a prediction beyond the measured sizes with its trust; the text, JSON and
# the options; bad inputs (an empty file, a newer schema, a missing one,
# bad options) with their messages and exit codes; and the model of a
# small real experiment made here by `lumos run SPEC`.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
fixture="python3 $(dirname "$0")/model_fixture.py"

# 1. An empty file of this Lumos' schema, and the known line in a copy.
empty=$TMP/empty.db
serve --results "$empty"
stop_serve
cp "$empty" "$TMP/line.db"
$fixture line | sqlite3 "$TMP/line.db"
cp "$empty" "$TMP/shift.db"
$fixture line shift | sqlite3 "$TMP/shift.db"

expect_exit 0 "$LUMOS" model "$TMP/line.db" --json
echo "$OUT" >"$TMP/line.json"
[[ $(jq -r '.requests, (.series | length)' "$TMP/line.json" | tr '\n' ' ') == "80 1 " ]] ||
  fail "requests, series: $(jq -c '{requests, n: (.series | length)}' "$TMP/line.json")"
s='.series[0]'
[[ $(jq -r "$s | .function, .runtime, .start, .axis, .x, .x_unit, .x_is_io_bytes, .e2e_source" "$TMP/line.json" | tr '\n' ' ') == "fibonacci native warm size n n false client " ]] ||
  fail "series: $(jq -c "$s | del(.components)" "$TMP/line.json")"
[[ $(jq -c "[$s.levels[] | [.x, .requests]]" "$TMP/line.json") == "[[1000,20],[10000,20],[100000,20],[1000000,20]]" ]] ||
  fail "levels: $(jq -c "$s.levels" "$TMP/line.json")"
# 3 ns per n = 3e-6 ms per n, within 5% (here exactly: the level means lie
# on the line), linear, weighted, inside its interval.
comp() { jq -c "$s.components[] | select(.component == \"$1\")" "$TMP/line.json"; }
python3 - "$(comp compute)" <<'PY' || fail "compute's fit: $(comp compute)"
import json, sys
c = json.loads(sys.argv[1])
l = c["linear"]
assert c["form"] == "linear" and l["weighted"], c
assert abs(l["slope_ms_per_n"] / 3e-6 - 1) < 0.05, l
assert abs(l["slope_ms_per_n"] / 3e-6 - 1) < 1e-9, l
assert l["slope_ci95_lo_ms_per_n"] <= 3e-6 <= l["slope_ci95_hi_ms_per_n"], l
assert abs(l["intercept_ms"] - 0.005) < 1e-9, l
assert l["lack_of_fit_p"] > 0.99, l
PY
[[ $(comp platform | jq '.linear.intercept_ms * 1e6 | round') == 45000 ]] || fail "platform: $(comp platform)"
[[ $(comp client | jq '.linear.intercept_ms * 1e6 | round') == 50000 ]] || fail "client: $(comp client)"

# 2. Validation: every level held out in turn; here no error at all.
expect_exit 0 "$LUMOS" model "$TMP/line.db" --validate --json
echo "$OUT" | jq -e '.validation.series_checked == 1 and (.validation.rows | length) > 0' >/dev/null ||
  fail "validation: $(echo "$OUT" | jq -c '.validation | del(.rows)')"
bad=$(echo "$OUT" | jq -c '[.validation.rows[] | select(((.median_rel_err // 0) | fabs) > 1e-9 or ((.p90_rel_err // 0) | fabs) > 1e-9)]')
[[ $bad == "[]" ]] || fail "errors on an exact line: $bad"
# A level moved by 25%, held out, is 20% off; its neighbours, fitted with
# it, are off too (the line bends towards it).
expect_exit 0 "$LUMOS" model "$TMP/shift.db" --validate --holdout payload=group:1 --json
row=$(echo "$OUT" | jq -c '.validation.rows[] | select(.component == "compute")')
python3 - "$row" <<'PY' || fail "the moved level: $row"
import json, sys
r = json.loads(sys.argv[1])
assert r["held_out_x"] == 10000 and not r["edge"], r
assert abs(r["median_rel_err"] + 0.2) < 1e-9 and abs(r["p90_rel_err"] + 0.2) < 1e-9, r
PY
expect_exit 0 "$LUMOS" model "$TMP/shift.db" --validate
contains "$OUT" "validation: each level of the 1 series with three or more levels held out in turn"
echo "$OUT" | grep -Eq '^ +10000 inside +compute +linear .* -20\.0% .* -20\.0% ' ||
  fail "the table's moved level: $OUT"
contains "$OUT" "median |err| per component"

# 3. A prediction twice beyond the largest n: the line there, medium trust.
expect_exit 0 "$LUMOS" model "$TMP/line.db" --predict 'fibonacci@native,size=2M' --json
p=$(echo "$OUT" | jq -c '.predictions[0]')
python3 - "$p" <<'PY' || fail "prediction: $p"
import json, sys
p = json.loads(sys.argv[1])
assert p["method"] == "size fit" and p["place"] == "extrapolation", p
assert p["extrapolation_factor"] == 2 and p["trust"] == "medium", p
c = {x["component"]: x for x in p["components"]}
want = (5000 + 3 * 2e6) / 1e6
assert abs(c["compute"]["median_ms"] / want - 1) < 1e-9, c["compute"]
assert abs(c["compute"]["p90_ms"] / (want * 22 / 20) - 1) < 1e-9, c["compute"]
e2e = want + (45000 + 1000 + 2000 + 50000) / 1e6
assert abs(c["e2e"]["mean_ms"] / e2e - 1) < 1e-9, c["e2e"]
PY
expect_exit 0 "$LUMOS" model "$TMP/line.db" --predict 'fibonacci@native,payload=group:2'
contains "$OUT" "fibonacci@native: size fit, warm, closed loop of 1: x = payload group:2: n = 100000"
contains "$OUT" "measured; trust"
expect_exit 0 "$LUMOS" model "$TMP/line.db"
contains "$OUT" "$TMP/line.db: 80 answered requests (schema 6, by cell); 1 series"
contains "$OUT" "fibonacci@native, warm, closed loop of 1: against size (x = n, the payload's nominal size for the function)"
echo "$OUT" | grep -Eq '^  compute +linear +80 ' || fail "the table's compute row: $OUT"
expect_exit 0 "$LUMOS" model "$TMP/line.db" --fit loglog --json
[[ $(echo "$OUT" | jq -r '.form, (.series[0].components[] | select(.component == "compute") | .form)' | tr '\n' ' ') == "log-log log-log " ]] ||
  fail "--fit loglog: $(echo "$OUT" | jq -c '.form')"
expect_exit 0 "$LUMOS" model --help
contains "$OUT" "usage: lumos model DB [options]"

# 4. Bad input.
expect_exit 1 "$LUMOS" model "$empty"
[[ $ERR == "lumos: model: $empty holds no answered request: nothing to model" ]] || fail "empty: $ERR"
cp "$empty" "$TMP/newer.db"
sqlite3 "$TMP/newer.db" 'PRAGMA user_version = 99'
expect_exit 1 "$LUMOS" model "$TMP/newer.db"
contains "$ERR" "lumos: model: results database $TMP/newer.db has schema version 99, newer than this Lumos knows"
expect_exit 1 "$LUMOS" model "$TMP/missing.db"
contains "$ERR" "lumos: model: results database $TMP/missing.db: cannot open it"
expect_exit 1 "$LUMOS" model "$TMP/line.db" --function noop
[[ $ERR == "lumos: model: $TMP/line.db holds no answered request of noop: nothing to model" ]] || fail "--function noop: $ERR"
expect_exit 1 "$LUMOS" model "$TMP/line.db" --predict 'fibonacci@wasm-aot,payload=group:2'
contains "$ERR" "lumos: model: --predict fibonacci@wasm-aot,payload=group:2: $TMP/line.db has no answered request of fibonacci@wasm-aot"
expect_exit 1 "$LUMOS" model "$TMP/line.db" --predict 'fibonacci@native,concurrency=4'
contains "$ERR" "nothing to predict for fibonacci@native here"
expect_exit 1 "$LUMOS" model "$TMP/line.db" --validate --holdout concurrency=3
contains "$ERR" "lumos: model: --validate --holdout concurrency=3: no series with three or more levels has the level to hold out"
expect_exit 2 "$LUMOS" model
contains "$ERR" "lumos model: which database? lumos model DB"
expect_exit 2 "$LUMOS" model "$TMP/line.db" --predict fibonacci
contains "$ERR" "lumos model: --predict 'fibonacci': say the function and runtime first: F@R[,key=value]..."
expect_exit 2 "$LUMOS" model "$TMP/line.db" --predict 'f@r,size=-1'
contains "$ERR" "size=-1: want a number above 0"
expect_exit 2 "$LUMOS" model "$TMP/line.db" --holdout payload=group:1
contains "$ERR" "lumos model: --holdout goes with --validate"
expect_exit 2 "$LUMOS" model "$TMP/line.db" --validate --holdout start=cold
contains "$ERR" "hold out one level: payload=P, size=X, concurrency=N or rate=R"
expect_exit 2 "$LUMOS" model "$TMP/line.db" --fit cubic
contains "$ERR" "lumos model: --fit is auto, linear or loglog, not 'cubic'"
expect_exit 2 "$LUMOS" model "$TMP/line.db" "$TMP/line.db"
contains "$ERR" "unexpected argument"

# 5. A small real experiment: fuzzy-search (three I/O sizes) and fibonacci
# on native, two closed loops, through the platform.
cat >"$TMP/real.json" <<'EOF'
{"name": "model", "functions": ["fuzzy-search", "fibonacci"], "runtimes": ["native"],
 "skip_unavailable": false, "payloads": ["group:xs", "group:s", "group:1"], "starts": ["warm"],
 "loads": [{"closed": 1, "requests": 8}, {"closed": 2, "requests": 8}],
 "repetitions": 1, "warmup": 1, "timeout_ms": 20000,
 "platform": {"defaults": {"max_scale": 2, "autoscaler": "none", "idle_timeout_ms": 60000}}}
EOF
expect_exit 0 "$LUMOS" run "$TMP/real.json" --db "$TMP/real/results.db"
real=$TMP/real/results.db
expect_exit 0 "$LUMOS" model "$real" --json
# 96 measured rows, none lost; the model takes those the runner kept: a closed loop of two
# may start a second instance in a warm cell, and that row is excluded ("cold in a warm
# cell"), so the count depends on timing.
measured=$(sqlite3 "$real" "SELECT count(*) FROM requests WHERE excluded IS NOT 'warm-up'")
kept=$(sqlite3 "$real" "SELECT count(*) FROM requests WHERE excluded IS NULL
  AND status_http BETWEEN 200 AND 299 AND error IS NULL")
[[ $measured == 96 ]] || fail "real: $measured measured rows, want 96"
echo "$OUT" | jq -e --argjson k "$kept" '.requests == $k and $k >= 88 and (.series | length) >= 4' >/dev/null ||
  fail "real: $(echo "$OUT" | jq -c '{requests, left_out, unplaced, n: (.series | length)}'), kept $kept; not kept: $(
    sqlite3 "$real" "SELECT status_http, error, excluded FROM requests WHERE excluded IS NOT 'warm-up'
      AND (excluded IS NOT NULL OR status_http <> 200 OR error IS NOT NULL)" | head -5)"
[[ $(echo "$OUT" | jq -r '.series[] | select(.function == "fuzzy-search" and .axis == "size") | "\(.x) \(.levels | length) \(.e2e_source)"' | sort -u) == "io_bytes 3 client" ]] ||
  fail "fuzzy-search's size series: $(echo "$OUT" | jq -c '[.series[] | select(.function == "fuzzy-search") | {axis, x, levels}]')"
# Its compute grows with the bytes it reads.
echo "$OUT" | jq -e '[.series[] | select(.function == "fuzzy-search" and .axis == "size") | .components[] | select(.component == "compute") | .linear.slope_ms_per_byte > 0] | all' >/dev/null ||
  fail "fuzzy-search's compute does not grow with its input"
expect_exit 0 "$LUMOS" model "$real" --validate
contains "$OUT" "fuzzy-search@native, warm, closed loop of 1: against size (x = io_bytes"
contains "$OUT" "median |err| per component"
expect_exit 0 "$LUMOS" model "$real" --predict 'fuzzy-search@native,payload=group:2,concurrency=1' --json
echo "$OUT" | jq -e '.predictions[0] | .method == "size fit" and .place == "extrapolation" and (.trust | IN("low", "medium")) and ([.components[] | select(.component == "e2e") | .median_ms > 0] | all)' >/dev/null ||
  fail "real prediction: $(echo "$OUT" | jq -c '.predictions')"
echo "real: $(echo "$OUT" | jq -r '.predictions[0] | "\(.x_from): \(.trust) (\(.why))"')"
