#!/usr/bin/env bash
# test_shape.sh -- `lumos shape`: --help, --check of conditions and
# schedules (strict errors, exit 2), and the proxy in front of a private
# redis-server: it answers through the proxy, and on SIGTERM prints its
# counters as JSON.
source "$(dirname "$0")/lib.sh"

expect_exit 0 "$LUMOS" shape --help
contains "$OUT" "--listen ADDR"
expect_exit 0 "$LUMOS" shape --check --condition 'rate=100mbit,loss=1%,delay=20ms,jitter=5ms:uniform'
contains "$OUT" "0s delay=20ms,jitter=5ms:uniform,loss=1%,rate=100mbit"
expect_exit 2 "$LUMOS" shape --check --condition 'delay=20ms,delay=5ms'
contains "$ERR" "given twice"
expect_exit 2 "$LUMOS" shape --check --condition 'latency=5ms'
contains "$ERR" "unknown key 'latency'"
printf '0s delay=20ms\n2m delay=200ms,loss=5%%  # degrade\n4m delay=20ms\n' >"$TMP/sched"
expect_exit 0 "$LUMOS" shape --check --schedule "$TMP/sched" --json
contains "$OUT" '{"at_s":120,"condition":"delay=200ms,loss=5%"}'
printf '2m delay=1ms\n1m delay=2ms\n' >"$TMP/bad"
expect_exit 2 "$LUMOS" shape --check --schedule "$TMP/bad"
contains "$ERR" "increase strictly"
expect_exit 2 "$LUMOS" shape --condition delay=1ms
contains "$ERR" "--listen ADDR and --upstream ADDR"
expect_exit 1 "$LUMOS" shape --listen 127.0.0.1:0 --upstream localhost:1
contains "$ERR" "numeric"

start_redis
port=$((20000 + RANDOM % 20000))
"$LUMOS" shape --listen "127.0.0.1:$port" --upstream "$REDIS" --condition delay=2ms --json \
  >"$TMP/stats" 2>"$TMP/shape.err" &
pid=$!
for _ in $(seq 100); do
  grep -q listening "$TMP/shape.err" 2>/dev/null && break
  sleep 0.05
done
contains "$(cat "$TMP/shape.err")" "listening on 127.0.0.1:$port"
[[ $(redis-cli -p "$port" ping) == PONG ]] || fail "no PONG through the proxy"
redis-cli -p "$port" set k v >/dev/null
[[ $(redis-cli -p "$port" get k) == v ]] || fail "GET through the proxy"
kill -TERM "$pid"
wait "$pid" || fail "lumos shape exited $? on SIGTERM"
contains "$(cat "$TMP/stats")" '"connections":3'
contains "$(cat "$TMP/stats")" '"failed":0'
echo ok
