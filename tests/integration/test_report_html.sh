# The HTML report of a small real run: `lumos run SPEC` through the real
# platform (two functions, three runtimes, cold and warm, closed loops of
# one and two clients, a trace replay) ends with index.html; every figure
# is a well-formed SVG and a real PNG beside its CSV; the page opens in
# headless Chromium with no console error and no missing resource (skipped,
# saying why, only when Chromium cannot run here); the numbers of its cells
# table are those computed again from the raw rows (report_check.py); each
# cell's rows file holds its rows; the latency parts add up; the text and
# JSON forms say the same; a second report of the file is the same page.
source "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
check=$here/report_check.py

"$LUMOS" trace gen --pattern step --rates 5,30 --step-s 1 --seed 3 \
  --mix fibonacci@native:1,fibonacci@wasm-aot:1 --payload group:xs -o "$TMP/t.csv" >/dev/null
cat >"$TMP/spec.json" <<'EOF'
{
  "name": "report-html",
  "functions": ["fibonacci", "fuzzy-search"],
  "runtimes": ["native", "wasm-aot", "wasm-interp-wabt"],
  "skip_unavailable": false,
  "payloads": ["group:xs"],
  "starts": ["cold", "warm"],
  "loads": [{"closed": 1, "requests": 6}, {"closed": 2, "requests": 6}, {"trace": "t.csv"}],
  "repetitions": 1,
  "warmup": 1,
  "timeout_ms": 20000,
  "platform": {"defaults": {"max_scale": 4, "autoscaler": "kpa", "idle_timeout_ms": 60000}}
}
EOF
dir=$TMP/run
db=$dir/results.db
expect_exit 0 "$LUMOS" run "$TMP/spec.json" --db "$db"
contains "$OUT" "report: $dir/index.html"
[[ -s $dir/index.html && -s $dir/report.md && -s $dir/summary.json ]] || fail "report files: $(ls "$dir")"

# 1. Every figure: CSV, script, SVG (well-formed XML, an svg root) and PNG
# (signature and dimensions), and the figures the issue names are there.
ids=$(python3 "$check" figures "$dir") || fail "figures"
for want in e2e-warm e2e-cold cold-phases breakdown-fibonacci breakdown-fuzzy-search \
  breakdown-normalised cdf-io cdf-ser cpu-request mem-request cpu-instance mem-instance \
  concurrency-fibonacci-group_xs concurrency-fuzzy-search-group_xs sizes; do
  grep -qx "$want" <<<"$ids" || fail "no figure $want (figures: $(echo $ids))"
done
grep -q '^timeline-cell-' <<<"$ids" || fail "no timeline of the trace replay"
for svg in "$dir"/figures/*.svg; do
  xmllint --noout "$svg" || fail "$svg is not well-formed XML"
done
# Each figure on the page, drawn, with its files linked.
for id in $ids; do
  grep -q "src=\"figures/$id.svg\"" "$dir/index.html" || fail "figure $id is not on the page"
  grep -q "href=\"figures/$id.csv\"" "$dir/index.html" || fail "figure $id's data is not linked"
done

# 2. The page in headless Chromium: no console error or warning, no failed
# request, no broken image.
rc=0
python3 "$here/cdp_check.py" "$dir/index.html" >"$TMP/cdp.out" 2>&1 || rc=$?
if [[ $rc == 77 ]]; then
  echo "SKIP (only the browser check): $(cat "$TMP/cdp.out")"
elif [[ $rc != 0 ]]; then
  fail "the page in Chromium: $(cat "$TMP/cdp.out")"
else
  contains "$(cat "$TMP/cdp.out")" "images"
  cat "$TMP/cdp.out"
fi

# 3. The numbers: the cells table against the raw rows, the rows files
# against the database, every link to a rows file that exists.
python3 "$check" cells "$db" "$dir/index.html" || fail "cells table"
python3 "$check" rows "$db" "$dir" || fail "rows files"
missing=$(grep -o 'href="rows/[^"]*"' "$dir/index.html" | sort -u | sed 's/href="//; s/"$//' |
  while read -r f; do [[ -s $dir/$f ]] || echo "$f"; done)
[[ -z $missing ]] || fail "links to missing rows files: $missing"
[[ $(grep -o 'href="rows/' "$dir/index.html" | wc -l) -gt 100 ]] || fail "too few links to rows"

# 4. The text and JSON forms, from the same code: the same cells; the
# latency parts add up to each cell's mean end to end.
expect_exit 0 "$LUMOS" report "$db" --format json
echo "$OUT" >"$TMP/r.json"
python3 "$check" parts "$TMP/r.json" || fail "parts"
[[ $(jq '.groups | length' "$TMP/r.json") == $(sqlite3 "$db" 'select count(*) from cells') ]] ||
  fail "JSON groups against cells"
[[ $(jq -r '.paper | length' "$TMP/r.json") == 6 ]] || fail "the paper's six findings"
[[ $(jq '[.findings[] | select(.topic == "warm")] | length' "$TMP/r.json") -ge 2 ]] ||
  fail "no warm latency findings"
[[ $(jq -r '.runtimes[] | select(.name == "wasm-interp-wabt") | .about' "$TMP/r.json") == *"reference interpreter"* ]] ||
  fail "wasm-interp-wabt's identity"
expect_exit 0 "$LUMOS" report "$db" --format text
for section in "runtimes:" "cold start by" "latency breakdown" "findings:" "the paper's findings"; do
  contains "$OUT" "$section"
done
contains "$OUT" "wabt 1.0"

# 5. The same file reported again gives the same page and figure data.
expect_exit 0 "$LUMOS" report "$db" --out "$TMP/again"
contains "$OUT" "report: $TMP/again/index.html"
sed "s|$db|DB|g; s|$TMP/again|DIR|g" "$TMP/again/index.html" >"$TMP/b.html"
sed "s|$db|DB|g; s|$dir|DIR|g" "$dir/index.html" >"$TMP/a.html"
cmp -s "$TMP/a.html" "$TMP/b.html" || fail "a second report differs: $(diff "$TMP/a.html" "$TMP/b.html" | head -5)"
for csv in "$dir"/figures/*.csv; do
  cmp -s "$csv" "$TMP/again/figures/$(basename "$csv")" || fail "$(basename "$csv") differs"
done
echo ok
