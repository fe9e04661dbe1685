# lumos compare: two schema-3 files made by lumos serve and filled with rows
# (model_fixture.py compare): DB2's fibonacci@native cell takes twice as
# long in every part (a known 2x change), its wasm-aot cell is the same,
# and each file has a cell the other lacks. The 2x cell is marked slower
# with an interval that holds 2, the same cell is not marked, the cells of
# one file are listed, the same file twice marks nothing; the text, JSON
# and HTML (self-contained: no script, no external resource); bad inputs
# with their messages and exit codes; and two runs of a small real
# experiment made here by `lumos run SPEC` compared cell by cell.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
fixture="python3 $(dirname "$0")/model_fixture.py"

empty=$TMP/empty.db
serve --results "$empty"
stop_serve
cp "$empty" "$TMP/a.db"
$fixture compare 1 0 | sqlite3 "$TMP/a.db"
cp "$empty" "$TMP/b.db"
$fixture compare 2 1 | sqlite3 "$TMP/b.db"

# 1. The known change.
expect_exit 0 "$LUMOS" compare "$TMP/a.db" "$TMP/b.db" --json --html "$TMP/cmp.html"
echo "$OUT" >"$TMP/cmp.json"
contains "$ERR" "lumos compare: wrote $TMP/cmp.html"
[[ $(jq -r '.by, .metric, .ratio, .resamples, .seed, .slower, .faster' "$TMP/cmp.json" | tr '\n' '|') == "cell|e2e|median of DB2 / median of DB1|2000|1|1|0|" ]] ||
  fail "header: $(jq -c 'del(.rows)' "$TMP/cmp.json")"
a=$(jq -c '.rows[] | select(.db1.cell == "fibonacci@native/group:1/warm/closed:1x30/rep1")' "$TMP/cmp.json")
python3 - "$a" <<'PY' || fail "the 2x cell: $a"
import json, sys
r = json.loads(sys.argv[1])
assert r["change"] == "slower" and r["matched_by"] == "name", r
assert abs(r["median_ratio"] - 2) < 0.01, r
assert r["median_ratio_ci95_lo"] < 2 < r["median_ratio_ci95_hi"], r
assert r["median_ratio_ci95_lo"] > 1, r
assert r["db1"]["n"] == 30 and r["db2"]["n"] == 30, r
PY
b=$(jq -c '.rows[] | select(.db1.runtime == "wasm-aot")' "$TMP/cmp.json")
python3 - "$b" <<'PY' || fail "the same cell: $b"
import json, sys
r = json.loads(sys.argv[1])
assert r["change"] is None and r["median_ratio"] == 1, r
assert r["median_ratio_ci95_lo"] <= 1 <= r["median_ratio_ci95_hi"], r
PY
[[ $(jq -r '.only_in_db1[].cell, .only_in_db2[].cell' "$TMP/cmp.json" | tr '\n' ' ') == "noop@native/group:1/warm/closed:1x30/rep1 noop@wasm-aot/group:1/warm/closed:1x30/rep1 " ]] ||
  fail "cells of one file: $(jq -c '.only_in_db1, .only_in_db2' "$TMP/cmp.json")"
# The HTML: the same rows, the change marked, nothing to fetch or run.
grep -q '<tr class="slower"><td>fibonacci@native/group:1/warm/closed:1x30/rep1</td>' "$TMP/cmp.html" ||
  fail "HTML: no slower row"
[[ $(grep -c '<tr' "$TMP/cmp.html") == 3 ]] || fail "HTML: rows $(grep -c '<tr' "$TMP/cmp.html")"
grep -q 'only in DB1' "$TMP/cmp.html" && grep -q 'only in DB2' "$TMP/cmp.html" || fail "HTML: lists"
! grep -Eqi '<script|src=|href=|url\(' "$TMP/cmp.html" || fail "HTML is not self-contained"
python3 - "$TMP/cmp.html" <<'PY' || fail "HTML does not parse"
import html.parser, sys
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack = []
    def handle_starttag(self, tag, attrs):
        if tag not in ("meta", "br"):
            self.stack.append(tag)
    def handle_endtag(self, tag):
        assert self.stack and self.stack.pop() == tag, (tag, self.stack)
p = P()
p.feed(open(sys.argv[1]).read())
assert p.stack == [], p.stack
PY
# The table.
expect_exit 0 "$LUMOS" compare "$TMP/a.db" "$TMP/b.db"
contains "$OUT" "ratio = DB2 / DB1 of the medians, 95% percentile bootstrap (B = 2000, seed 1)"
echo "$OUT" | grep -Eq '^\* fibonacci@native/group:1/warm/closed:1x30/rep1 +30 .* 2\.000 +\[[0-9.]+, [0-9.]+\] .* slower$' ||
  fail "table row of the 2x cell: $OUT"
contains "$OUT" "2 matched, 1 changed: 1 slower, 0 faster"
contains "$OUT" "1 cells only in DB1 $TMP/a.db:"
contains "$OUT" "  noop@wasm-aot/group:1/warm/closed:1x30/rep1"
# Another metric: compute alone doubled too.
expect_exit 0 "$LUMOS" compare "$TMP/a.db" "$TMP/b.db" --metric compute --json --resamples 500 --seed 3
[[ $(echo "$OUT" | jq -r '.metric, .resamples, .seed, .slower, (.rows[0].db1 | has("median_ms"))' | tr '\n' ' ') == "compute 500 3 1 true " ]] ||
  fail "--metric compute: $(echo "$OUT" | jq -c 'del(.rows)')"

# 2. The same file twice: nothing marked.
expect_exit 0 "$LUMOS" compare "$TMP/a.db" "$TMP/a.db" --json
[[ $(echo "$OUT" | jq -r '.slower + .faster, (.rows | length), ([.rows[] | .median_ratio == 1] | all), (.only_in_db1 | length)' | tr '\n' ' ') == "0 3 true 0 " ]] ||
  fail "identical: $(echo "$OUT" | jq -c '[.slower, .faster, [.rows[] | .median_ratio]]')"

# 3. Bad input.
expect_exit 1 "$LUMOS" compare "$empty" "$TMP/a.db"
[[ $ERR == "lumos: compare: $empty holds no request: nothing to compare" ]] || fail "empty: $ERR"
cp "$TMP/a.db" "$TMP/newer.db"
sqlite3 "$TMP/newer.db" 'PRAGMA user_version = 7'
expect_exit 1 "$LUMOS" compare "$TMP/a.db" "$TMP/newer.db"
contains "$ERR" "lumos: compare: results database $TMP/newer.db has schema version 7, newer than this Lumos knows (6)"
expect_exit 1 "$LUMOS" compare "$TMP/a.db" "$TMP/none.db"
contains "$ERR" "lumos: compare: results database $TMP/none.db: cannot open it"
expect_exit 1 "$LUMOS" compare "$TMP/a.db" "$TMP/b.db" --html "$TMP/no/such/dir/x.html"
contains "$ERR" "lumos: compare: "
expect_exit 2 "$LUMOS" compare "$TMP/a.db"
contains "$ERR" "lumos compare: which two databases? lumos compare DB1 DB2"
expect_exit 2 "$LUMOS" compare "$TMP/a.db" "$TMP/b.db" --metric speed
contains "$ERR" "lumos compare: unknown metric 'speed'"
expect_exit 2 "$LUMOS" compare "$TMP/a.db" "$TMP/b.db" --resamples 0
contains "$ERR" "--resamples wants a count from 1 to 1M, not '0'"
expect_exit 0 "$LUMOS" compare --help
contains "$OUT" "usage: lumos compare DB1 DB2 [options]"

# 4. Two runs of a small real experiment: every cell matched by name.
cat >"$TMP/real.json" <<'EOF'
{"name": "compare", "functions": ["fibonacci", "noop"], "runtimes": ["native"],
 "skip_unavailable": false, "payloads": ["group:xs"], "starts": ["warm", "cold"],
 "loads": [{"closed": 1, "requests": 6}], "repetitions": 1, "warmup": 1, "timeout_ms": 20000,
 "platform": {"defaults": {"max_scale": 2, "autoscaler": "none", "idle_timeout_ms": 60000}}}
EOF
expect_exit 0 "$LUMOS" run "$TMP/real.json" --db "$TMP/r1/results.db"
expect_exit 0 "$LUMOS" run "$TMP/real.json" --db "$TMP/r2/results.db"
expect_exit 0 "$LUMOS" compare "$TMP/r1/results.db" "$TMP/r2/results.db" --json --html "$TMP/real.html"
echo "$OUT" | jq -e '(.rows | length) == 4 and ([.rows[] | .matched_by == "name" and .median_ratio > 0] | all) and (.only_in_db1 | length) == 0 and (.only_in_db2 | length) == 0' >/dev/null ||
  fail "real runs: $(echo "$OUT" | jq -c '[.rows[] | [.db1.cell, .median_ratio, .change]]')"
[[ -s $TMP/real.html ]] || fail "no HTML of the real runs"
expect_exit 0 "$LUMOS" compare "$TMP/r1/results.db" "$TMP/r2/results.db"
echo "$OUT"
