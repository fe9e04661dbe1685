# lumos serve: the gateway and its pools with real instances and a real
# Redis: cold then warm, forced cold starts, scale to zero, scale out with
# a queue, and bad input (unknown service, a body over the limit, malformed
# HTTP, a client that leaves, a crash, a hang), none of which stops it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"

cold_ms() { echo "$TIMING" | sed -n 's/.*cold;dur=\([0-9.]*\).*/\1/p'; }
services() { curl -s "$URL/services"; }

serve --idle-timeout 1500 --max-scale 2 --queue 8 --timeout 3000 --max-body 4096 --autoscaler none \
  --results "$TMP/serve.db"
sent=0
post /function/fibonacci@wasm-aot '{"n":93}'
sent=$((sent + 1))
[[ $CODE == 200 ]] || fail "first request: $CODE $BODY"
contains "$BODY" 12200160415121876738
[[ $(cold_ms) != 0.000 ]] || fail "first request was not cold: $TIMING"
for part in cold queue deser io compute ser total; do contains "$TIMING" "$part;dur="; done
grep -qi '^x-lumos-request-id: [0-9]' "$TMP/headers" || fail "no X-Lumos-Request-Id"
post /function/fibonacci@wasm-aot '{"n":93}' -H 'X-Lumos-Cell: 7'
sent=$((sent + 1))
[[ $(cold_ms) == 0.000 ]] || fail "second request was not warm: $TIMING"
cell_req=$(sed -n 's/^[xX]-[lL]umos-[rR]equest-[iI]d: \([0-9]*\).*/\1/p' "$TMP/headers")
post /function/fibonacci@wasm-aot '{"n":93}' -H 'X-Lumos-Cell: -3'
sent=$((sent + 1))
bad_cell_req=$(sed -n 's/^[xX]-[lL]umos-[rR]equest-[iI]d: \([0-9]*\).*/\1/p' "$TMP/headers")
for _ in 1 2; do
  post /function/fibonacci@wasm-aot '{"n":10}' -H 'X-Lumos-Start: cold'
  sent=$((sent + 1))
  [[ $CODE == 200 && $(cold_ms) != 0.000 ]] || fail "X-Lumos-Start: cold gave $CODE $TIMING"
done
# Scale to zero after the idle timeout (1.5 s: long enough that a loaded
# machine keeps the warm requests above warm), looked at for up to 8 s.
for _ in $(seq 80); do
  [[ $(services | jq '.[] | select(.name=="fibonacci@wasm-aot") | .instances') == 0 ]] && break
  sleep 0.1
done
[[ $(services | jq '.[] | select(.name=="fibonacci@wasm-aot") | .instances') == 0 ]] ||
  fail "not scaled to zero: $(services)"

# Scale out to max-scale 2; the queue holds the rest; every request answers.
for i in 1 2 3 4; do
  curl -s -o "$TMP/par$i" -w '%{http_code}' -X POST -d '{"size":1024,"storage":"inline"}' \
    "$URL/function/mandelbrot-bitmap" >"$TMP/code$i" &
done
wait $(jobs -p | grep -v "^$SERVE_PID$") 2>/dev/null || true
sent=$((sent + 4))
for i in 1 2 3 4; do [[ $(cat "$TMP/code$i") == 200 ]] || fail "parallel request $i: $(cat "$TMP/code$i")"; done
[[ $(services | jq '.[] | select(.name=="mandelbrot-bitmap@native") | .cold_starts') == 2 ]] ||
  fail "pool did not stop at max-scale 2: $(services)"

# Bad input: none of it stops the gateway.
post /function/nosuch '{}'
[[ $CODE == 404 ]] || fail "unknown service: $CODE"
post /function/fibonacci@nosuchrt '{}'
[[ $CODE == 404 ]] || fail "unknown runtime: $CODE"
post /function/fibonacci "$(head -c 5000 /dev/zero | tr '\0' x)"
[[ $CODE == 413 ]] || fail "oversized body: $CODE"
post /function/fibonacci 'not json'
sent=$((sent + 1))
[[ $CODE == 400 ]] || fail "bad JSON: $CODE $BODY"
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'GARBAGE\r\n\r\n' >&3
exec 3>&-
curl -s -m 0.2 -X POST -d '{"mode":"hang"}' "$URL/function/faulty" >/dev/null || true # leaves early
sent=$((sent + 1))
post /function/faulty '{"mode":"trap"}'
sent=$((sent + 1))
[[ $CODE == 502 ]] || fail "crash: $CODE"
contains "$BODY" "signal 4"
post /function/faulty '{"mode":"hang"}'
sent=$((sent + 1))
[[ $CODE == 504 ]] || fail "hang: $CODE $BODY"
post /function/faulty '{"mode":"ok"}'
sent=$((sent + 1))
[[ $CODE == 200 ]] || fail "after the failures: $CODE $BODY"
# Every request that reached a service was served (answered or failed);
# the abandoned hang counts once its 3 s timeout fires.
for _ in $(seq 100); do
  served=$(services | jq '[.[].served] | add')
  [[ $served == "$sent" ]] && break
  sleep 0.1
done
[[ $served == "$sent" ]] || fail "served $served of $sent requests: $(services)"

# SIGTERM: a clean end, no instance left behind.
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || fail "serve did not exit cleanly"
SERVE_PID=
# Every instance it started (the results database names their pids) is gone.
for pid in $(sqlite3 "$TMP/serve.db" "SELECT pid FROM instances"); do
  if kill -0 "$pid" 2>/dev/null && grep -q build/artifacts "/proc/$pid/cmdline" 2>/dev/null; then
    fail "instance $pid outlived the gateway"
  fi
done
# With max-scale 2, two of the four parallel requests waited in the queue.
queued=$(sqlite3 "$TMP/serve.db" "SELECT count(*) FROM requests r JOIN services s ON s.id = r.service_id
  WHERE s.name = 'mandelbrot-bitmap@native' AND r.queued_ns IS NOT NULL")
[[ $queued == 2 ]] || fail "$queued of the 4 parallel requests were queued, not 2"
# X-Lumos-Cell names the request's experiment cell; a bad one names none.
[[ $(sqlite3 "$TMP/serve.db" "SELECT cell_id FROM requests WHERE id = $cell_req") == 7 ]] ||
  fail "request $cell_req is not in cell 7"
[[ $(sqlite3 "$TMP/serve.db" "SELECT count(*) FROM requests WHERE cell_id IS NOT NULL") == 1 ]] ||
  fail "more than one request in a cell (request $bad_cell_req sent X-Lumos-Cell: -3)"

# A second gateway on the same file appends: its ids continue after the
# first one's, nothing is rejected, and POST /results/flush puts its rows
# in the file while it runs.
before=$(sqlite3 "$TMP/serve.db" "SELECT count(*) FROM requests")
max_id=$(sqlite3 "$TMP/serve.db" "SELECT max(id) FROM requests")
instances=$(sqlite3 "$TMP/serve.db" "SELECT count(*) FROM instances")
serve --results "$TMP/serve.db" --autoscaler none
post /function/fibonacci@native '{"n":10}'
[[ $CODE == 200 ]] || fail "second gateway: $CODE $BODY"
grep -qi "^x-lumos-request-id: $((max_id + 1))" "$TMP/headers" || fail "ids did not continue after $max_id"
post /function/fibonacci@native '{"n":10}' -H 'X-Lumos-Start: cold'
post /results/flush ''
[[ $CODE == 200 ]] || fail "POST /results/flush: $CODE $BODY"
[[ $(echo "$BODY" | jq .rows_rejected) == 0 ]] || fail "rows rejected: $BODY"
[[ $(sqlite3 "$TMP/serve.db" "SELECT count(*) FROM requests") == $((before + 2)) ]] ||
  fail "not every row is in the file after /results/flush"
[[ $(sqlite3 "$TMP/serve.db" "SELECT count(*) FROM instances") == $((instances + 2)) ]] ||
  fail "the second gateway's instances merged into the first one's rows"
stop_serve
echo ok
