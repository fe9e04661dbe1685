# lumos serve under a storm of mixed requests from many clients at once:
# lumos-test: serial (see tests/run)
# warm and forced-cold requests, slow ones, crashes, hangs past the
# timeout, OOM kills, bad bodies, unknown services, clients that leave early,
# re-configurations through POST /services and /metrics scrapes, on a small
# pool with the KPA autoscaler ticking fast. The gateway must stay up, answer
# every request it read, record each in the results database, and shut down
# cleanly (under the sanitizer build too: no leak, no use after free).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"

DB=$TMP/stress.db
serve --results "$DB" --sample-ms 20 --timeout 1500 --max-scale 3 --queue 16 --queue-timeout 3000 \
  --tick 50 --stable-window 1000 --panic-window 100 --idle-timeout 300 --memory-limit 96 \
  --max-body 2048

bodies=(
  'fibonacci|{"n":30}'
  'fibonacci|{"n":30}|cold'
  'noop|{}'
  'faulty|{"mode":"sleep","ms":120}'
  'faulty|{"mode":"segv"}'
  'faulty|{"mode":"hang"}'
  'faulty|{"mode":"oom","mb":200}'
  'faulty|{"mode":"ok"}'
  'prime-numbers|{"limit":20000}'
  'fibonacci|not json'
  'nosuch|{}'
)
# client SEED: 25 requests; counts in $TMP/sent.SEED those whose request
# and body curl wrote whole (one that gives up within 50 ms on a loaded
# machine may not have sent anything, and the gateway never read it).
client() {
  local i n=0 pick fn body start opts sent_req sent_body
  RANDOM=$1
  for i in $(seq 25); do
    pick=${bodies[RANDOM % ${#bodies[@]}]}
    IFS='|' read -r fn body start <<<"$pick"
    opts=(-s -o /dev/null -m 10 -X POST -d "$body")
    [[ $start == cold ]] && opts+=(-H 'X-Lumos-Start: cold')
    # One request in eight leaves before its answer.
    ((RANDOM % 8 == 0)) && opts+=(-m 0.05)
    read -r sent_req sent_body < <(curl "${opts[@]}" -w '%{size_request} %{size_upload}\n' \
      "$URL/function/$fn" || true)
    ((${sent_req:-0} > 0 && ${sent_body:-0} == ${#body})) && n=$((n + 1))
  done
  echo "$n" >"$TMP/sent.$1"
}
pids=()
for seed in 1 2 3 4 5 6; do
  client "$seed" &
  pids+=($!)
done
# Meanwhile: settings change under load, and /metrics is scraped.
for _ in 1 2 3 4 5; do
  curl -s -o /dev/null -X POST -d '{"name":"fibonacci@native","max_scale":2,"container_concurrency":2}' \
    "$URL/services" || true
  curl -s "$URL/metrics" >"$TMP/metrics" || true
  sleep 0.3
done
wait "${pids[@]}"
kill -0 "$SERVE_PID" 2>/dev/null || fail "the gateway died under the storm: $(tail -5 "$TMP/serve.err")"
promtool check metrics <"$TMP/metrics" >"$TMP/promtool" 2>&1 || fail "promtool: $(cat "$TMP/promtool")"
sent=$(cat "$TMP"/sent.* | awk '{ n += $1 } END { print n }')
# Requests still in flight (a hang, a slow one) finish or fail by their
# timeouts; then a clean stop.
sleep 2
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || fail "serve exited $? after the storm: $(tail -20 "$TMP/serve.err")"
SERVE_PID=
grep -q "(0 lost)" "$TMP/serve.out" || fail "rows lost: $(tail -1 "$TMP/serve.out")"
rows=$(sqlite3 "$DB" "SELECT count(*) FROM requests")
[[ $rows == "$sent" ]] || fail "sent $sent requests, $rows rows stored"
[[ $(sqlite3 "$DB" "SELECT count(*) FROM instances WHERE stop_ns IS NULL OR end_reason IS NULL") == 0 ]] ||
  fail "instances without an end after shutdown"
for reason in oom crash timeout; do
  (($(sqlite3 "$DB" "SELECT count(*) FROM instances WHERE end_reason = '$reason'") > 0)) ||
    fail "no instance ended by $reason in the storm"
done
echo "ok: $sent requests, $(sqlite3 "$DB" "SELECT count(*) FROM instances") instances"
