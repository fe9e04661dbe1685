# lumos load against a real `lumos serve` with noop: open loop at a rate,
# closed loop, and a trace (open, with a forced cold start, and closed);
# --out writes every request; --db joins the client's times into the
# gateway's rows: every joined row has intended <= send <= ingress and
# response <= receive, and as many rows are joined as requests were sent.
# Then bad usage with its messages, a refused target, and --help.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"

serve --max-scale 2 --idle-timeout 60000 --results "$TMP/serve.db"
noop=$URL/function/noop

# Open loop, 200 requests/s for 2 s: every request answered.
expect_exit 0 "$LUMOS" load "$noop" --rate 200 --duration 2 --body '{}' \
  --header 'Content-Type: application/json' --out "$TMP/open.csv"
contains "$OUT" "open loop at 200 requests/s for 2 s (400 requests)"
contains "$OUT" "(400 sent, 400 answered"
contains "$OUT" "corrected"
contains "$OUT" "uncorrected"
contains "$OUT" "dropped        0"
[[ $(wc -l <"$TMP/open.csv") == 401 ]] || fail "open.csv has $(wc -l <"$TMP/open.csv") lines"
head -1 "$TMP/open.csv" | grep -q '^seq,req,path,intended_send_ns,send_ns,receive_ns,' ||
  fail "open.csv header: $(head -1 "$TMP/open.csv")"
awk -F, 'NR > 1 && ($10 != 200 || $12 == "" || $4 > $5 || $5 >= $6) { bad++ }
  END { exit bad > 0 }' "$TMP/open.csv" || fail "open.csv rows out of order or failed"

# Closed loop, JSON.
expect_exit 0 "$LUMOS" load "$noop" --concurrency 4 --requests 300 --body '{}' --json
[[ $(jq -r '.completed' <<<"$OUT") == 300 ]] || fail "closed loop: $OUT"
[[ $(jq -r '.max_in_flight' <<<"$OUT") == 4 ]] || fail "closed loop in flight: $OUT"
[[ $(jq -r '.status_2xx' <<<"$OUT") == 300 ]] || fail "closed loop statuses: $OUT"
jq -e '.latency_corrected.p99_99_ns > 0 and .latency_uncorrected.max_ns > 0 and .client_cpu_user_ns >= 0' \
  <<<"$OUT" >/dev/null || fail "closed loop JSON keys: $OUT"

# A trace: open loop, one cold start forced, a file payload.
printf '{}' >"$TMP/empty.json"
{
  echo "# lumos-trace 1 mode=open pattern=test rate_rps=100 seed=1"
  echo "offset_us,function,runtime,payload,start"
  for i in $(seq 0 49); do
    start=any
    [[ $i == 25 ]] && start=cold
    echo "$((i * 10000)),noop,,file:empty.json,$start"
  done
} >"$TMP/open.trace"
expect_exit 0 "$LUMOS" load "$URL" --trace "$TMP/open.trace" --db "$TMP/serve.db" --out "$TMP/trace.csv"
contains "$OUT" "(50 sent, 50 answered"
contains "$OUT" "joined 50 of 50 requests into $TMP/serve.db"
awk -F, 'NR > 1 && $3 != "/function/noop" { bad++ } END { exit bad > 0 }' "$TMP/trace.csv" ||
  fail "trace paths: $(cut -d, -f3 "$TMP/trace.csv" | sort | uniq -c)"
# ... and closed, by its clients.
{
  echo "# lumos-trace 1 mode=closed concurrency=3"
  echo "offset_us,function,runtime,payload,start"
  for _ in $(seq 30); do echo "0,noop,native,file:empty.json,warm"; done
} >"$TMP/closed.trace"
expect_exit 0 "$LUMOS" load "$URL" --trace "$TMP/closed.trace" --json
[[ $(jq -r '.mode + " " + (.completed | tostring) + " " + (.max_in_flight | tostring)' <<<"$OUT") == "closed 30 3" ]] ||
  fail "closed trace: $OUT"

# --db after a run of its own: every request of it joined.
expect_exit 0 "$LUMOS" load "$noop" --rate 300 --duration 1 --body '{}' --db "$TMP/serve.db" \
  --out "$TMP/db.csv"
contains "$OUT" "joined 300 of 300 requests into $TMP/serve.db"
stop_serve
ids=$(awk -F, 'NR > 1 { printf "%s%s", sep, $12; sep = "," }' "$TMP/db.csv")
q() { sqlite3 "$TMP/serve.db" "$1"; }
[[ $(q "SELECT count(*) FROM requests WHERE id IN ($ids)") == 300 ]] || fail "rows of the sent requests"
[[ $(q "SELECT count(*) FROM requests WHERE id IN ($ids) AND intended_send_ns IS NOT NULL
        AND send_ns IS NOT NULL AND receive_ns IS NOT NULL") == 300 ]] ||
  fail "not every row joined"
bad=$(q "SELECT count(*) FROM requests WHERE intended_send_ns IS NOT NULL AND NOT (
           intended_send_ns <= send_ns AND send_ns <= ingress_ns AND ingress_ns <= response_ns
           AND response_ns <= receive_ns)")
[[ $bad == 0 ]] || fail "$bad joined rows out of order: $(q "SELECT id, intended_send_ns, send_ns,
  ingress_ns, response_ns, receive_ns FROM requests WHERE NOT (intended_send_ns <= send_ns AND
  send_ns <= ingress_ns AND response_ns <= receive_ns) LIMIT 3")"
# The joined rows: exactly the requests the two --db runs sent (350).
[[ $(q "SELECT count(*) FROM requests WHERE receive_ns IS NOT NULL") == 350 ]] ||
  fail "joined rows: $(q "SELECT count(*) FROM requests WHERE receive_ns IS NOT NULL"), sent 350"
# The client's times match its CSV.
row=$(awk -F, 'NR == 101 { print $12 " " $4 " " $5 " " $6 }' "$TMP/db.csv")
read -r id intended sent received <<<"$row"
[[ $(q "SELECT intended_send_ns || ' ' || send_ns || ' ' || receive_ns FROM requests WHERE id = $id") == \
  "$intended $sent $received" ]] || fail "request $id's times differ from the CSV"

# A refused target: counted, exit 1 (nothing answered), never a hang.
port=$((20000 + RANDOM % 20000))
expect_exit 1 timeout 20 "$LUMOS" load "http://127.0.0.1:$port/x" --concurrency 2 --requests 10
contains "$OUT" "connect 10"
contains "$OUT" "first connect error: connect: Connection refused"
contains "$ERR" "lumos: load: no request was answered"

# Bad usage.
expect_exit 2 "$LUMOS" load
contains "$ERR" "lumos load: which URL? lumos load http://127.0.0.1:PORT/PATH"
expect_exit 2 "$LUMOS" load "$noop"
contains "$ERR" "give one of --rate R --duration S, --trace FILE or --concurrency N"
expect_exit 2 "$LUMOS" load "$noop" --rate 10
contains "$ERR" "--rate needs --duration S"
expect_exit 2 "$LUMOS" load "$noop" --concurrency 2
contains "$ERR" "--concurrency needs --requests M or --duration S"
expect_exit 2 "$LUMOS" load http://example.com/ --rate 1 --duration 1
contains "$ERR" "'example.com' is not a numeric address"
expect_exit 2 "$LUMOS" load "$noop" --rate 1 --duration 1 --header 'NoColon'
contains "$ERR" "--header must be 'Name: value' on one line, not 'NoColon'"
expect_exit 2 "$LUMOS" load "$noop" --rate -3 --duration 1
contains "$ERR" "--rate must be a number above 0"
expect_exit 2 "$LUMOS" load "$noop" --bogus
contains "$ERR" "unknown option or missing value: '--bogus'"
printf '# lumos-trace 1 mode=open\noffset_us,function,runtime,payload,start\n5,noop,,file:empty.json,any\n1,noop,,file:empty.json,any\n' \
  >"$TMP/bad.trace"
expect_exit 1 "$LUMOS" load "$noop" --trace "$TMP/bad.trace"
contains "$ERR" "bad.trace:4: offset_us: 1 is before the previous row's 5 (the trace must be sorted)"
expect_exit 1 "$LUMOS" load "$noop" --concurrency 1 --requests 1 --db "$TMP/nosuch.db"
contains "$ERR" "--db $TMP/nosuch.db: no such file"
expect_exit 0 "$LUMOS" load --help
contains "$OUT" "usage: lumos load URL [options]"
echo "test_load: ok"
