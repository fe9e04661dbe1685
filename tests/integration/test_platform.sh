# lumos serve as an observed platform: every request to /function/ becomes
# one row of the results database whatever its outcome (no record lost),
# the recorded timestamps are ordered and add up, CPU time and peak memory
# are attributed to requests, an OOM kill is recorded and its instance
# replaced, the KPA autoscaler scales out and back and logs its decisions,
# services are deployed by --config and POST /services, and GET /metrics
# passes promtool.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"

part() { echo "$TIMING" | sed -n "s/.*\\b$1;dur=\\([0-9.]*\\).*/\\1/p"; }
q() { sqlite3 -batch -noheader "$DB" "$1"; }

cat >"$TMP/config.json" <<'JSON'
{
  "defaults": { "idle_timeout_ms": 30000, "autoscaler": "none" },
  "default_runtimes": { "fibonacci": "wasm-aot" },
  "services": [
    { "name": "faulty@native", "memory_limit_mib": 128, "max_scale": 2 },
    { "name": "noop@native", "min_scale": 1 }
  ]
}
JSON
DB=$TMP/serve.db
serve --results "$DB" --sample-ms 50 --config "$TMP/config.json" --timeout 8000 --max-body 4096
sent=0
services=$(curl -s "$URL/services")
[[ $(echo "$services" | jq -r '.[] | select(.name=="faulty@native") | .config.memory_limit_mib') == 128 ]] ||
  fail "--config did not deploy faulty@native with its limit: $services"
# min_scale 1: noop has an instance before any request.
for _ in $(seq 50); do
  [[ $(curl -s "$URL/services" | jq '.[] | select(.name=="noop@native") | .idle') == 1 ]] && break
  sleep 0.1
done
[[ $(curl -s "$URL/services" | jq '.[] | select(.name=="noop@native") | .idle') == 1 ]] ||
  fail "min_scale 1 kept no idle instance: $(curl -s "$URL/services")"

# The default runtime of fibonacci is wasm-aot (from the file).
post /function/fibonacci '{"n":20}'
sent=$((sent + 1))
[[ $CODE == 200 ]] || fail "fibonacci: $CODE $BODY"
grep -qi '^x-lumos-instance: wasm-aot' "$TMP/headers" || fail "not on wasm-aot: $(cat "$TMP/headers")"

# A CPU-bound request, cold then warm: its parts add up to the total.
for i in 1 2 3 4 5 6; do
  post /function/mandelbrot-bitmap '{"size":1536,"storage":"inline"}'
  sent=$((sent + 1))
  [[ $CODE == 200 ]] || fail "mandelbrot: $CODE $BODY"
  sum=$(awk "BEGIN { print $(part platform) + $(part cold) + $(part queue) + $(part deser) + $(part io) + $(part compute) + $(part ser) }")
  total=$(part total)
  awk -v s="$sum" -v t="$total" 'BEGIN { d = s - t; if (d < 0) d = -d; exit !(d <= 0.01 * t + 0.002) }' ||
    fail "Server-Timing parts $sum ms do not add up to total $total ms: $TIMING"
done

# Memory: a request that touches 64 MiB shows a peak of at least that.
post /function/faulty '{"mode":"oom","mb":64}'
sent=$((sent + 1))
[[ $CODE == 200 ]] || fail "64 MiB request: $CODE $BODY"
# Over the 128 MiB limit: killed by the OOM killer (502), recorded, replaced.
post /function/faulty '{"mode":"oom","mb":400}'
sent=$((sent + 1))
[[ $CODE == 502 ]] || fail "OOM request: $CODE $BODY"
contains "$BODY" "OOM killer"
post /function/faulty '{"mode":"ok"}'
sent=$((sent + 1))
[[ $CODE == 200 && $(part cold) != 0.000 ]] || fail "after the OOM kill, no fresh instance: $CODE $TIMING"

# Refused at the gateway, still recorded: 404, 405, 413, and a bad body.
post /function/nosuch '{}'
sent=$((sent + 1))
[[ $CODE == 404 ]] || fail "unknown: $CODE"
grep -qi '^x-lumos-request-id: [0-9]' "$TMP/headers" || fail "a 404 without X-Lumos-Request-Id"
CODE=$(curl -s -o /dev/null -w '%{http_code}' "$URL/function/fibonacci")
sent=$((sent + 1))
[[ $CODE == 405 ]] || fail "GET on a function: $CODE"
post /function/fibonacci "$(head -c 5000 /dev/zero | tr '\0' x)"
sent=$((sent + 1))
[[ $CODE == 413 ]] || fail "oversized: $CODE"
post /function/fibonacci 'not json'
sent=$((sent + 1))
[[ $CODE == 400 ]] || fail "bad JSON: $CODE"
# A client that leaves before its answer: recorded all the same.
curl -s -m 0.3 -X POST -d '{"mode":"sleep","ms":1000}' "$URL/function/faulty" >/dev/null || true
sent=$((sent + 1))
# A crash and a hang.
post /function/faulty '{"mode":"segv"}'
sent=$((sent + 1))
[[ $CODE == 502 ]] || fail "crash: $CODE"
post /function/faulty '{"mode":"hang"}'
sent=$((sent + 1))
[[ $CODE == 504 ]] || fail "hang: $CODE"

# POST /services: deploy with settings; a bad body is a 400 naming the field.
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST \
  -d '{"name":"prime-numbers@native","max_scale":3,"idle_timeout_ms":0}' "$URL/services")
[[ $CODE == 201 ]] || fail "POST /services: $CODE $(cat "$TMP/body")"
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST -d '{"name":"prime-numbers","max_scal":3}' "$URL/services")
[[ $CODE == 400 ]] || fail "POST /services with a typo: $CODE"
contains "$(cat "$TMP/body")" "max_scal"
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST -d '{"name":"nosuch@native"}' "$URL/services")
[[ $CODE == 400 || $CODE == 404 ]] || fail "POST /services, unknown function: $CODE"
# idle_timeout_ms 0: every request is cold.
for _ in 1 2; do
  post /function/prime-numbers '{"limit":1000}'
  sent=$((sent + 1))
  [[ $CODE == 200 && $(part cold) != 0.000 ]] || fail "idle timeout 0 gave a warm request: $CODE $TIMING"
done

# /metrics: valid Prometheus text with what happened in it.
curl -s "$URL/metrics" >"$TMP/metrics"
promtool check metrics <"$TMP/metrics" >"$TMP/promtool" 2>&1 || fail "promtool: $(cat "$TMP/promtool")"
grep -q 'lumos_requests_total{.*service="faulty@native".*status="502"' "$TMP/metrics" ||
  fail "no 502 for faulty in /metrics"
grep -q 'lumos_instance_failures_total{.*reason="oom".*} 1' "$TMP/metrics" || fail "no OOM in /metrics"

# Let the abandoned request finish, then stop: everything is flushed.
sleep 1.2
stop_serve
grep -q "(0 lost)" "$TMP/serve.out" || fail "rows lost: $(tail -2 "$TMP/serve.out")"

rows=$(q "SELECT count(*) FROM requests")
[[ $rows == "$sent" ]] || fail "sent $sent requests, $rows rows stored"
# Timestamps in order for every request that reached an instance.
bad=$(q "SELECT count(*) FROM requests WHERE instance_id IS NOT NULL AND NOT (
  ingress_ns <= coalesce(queued_ns, ingress_ns) AND coalesce(queued_ns, ingress_ns) <= acquired_ns
  AND acquired_ns <= dispatch_ns AND dispatch_ns <= result_ns AND result_ns <= response_ns
  AND (cold = 0 OR (ingress_ns <= cold_begin_ns AND cold_begin_ns <= cold_ready_ns
                    AND cold_ready_ns <= dispatch_ns)))")
[[ $bad == 0 ]] || fail "$bad requests with timestamps out of order"
# Parts add up: gateway before the instance + cold + queue + the round trip
# + gateway after = total, within 1%, for every answered request.
bad=$(q "SELECT count(*) FROM requests WHERE status_http = 200 AND abs(
  (response_ns - ingress_ns) -
  ((coalesce(cold_ready_ns - cold_begin_ns, 0)) + (dispatch_ns - ingress_ns - coalesce(cold_ready_ns - cold_begin_ns, 0))
   + (result_ns - dispatch_ns) + (response_ns - result_ns))) > 0.01 * (response_ns - ingress_ns)")
[[ $bad == 0 ]] || fail "$bad requests whose parts do not add up"
bad=$(q "SELECT count(*) FROM requests WHERE status_http = 200 AND func_total_ns > result_ns - dispatch_ns")
[[ $bad == 0 ]] || fail "$bad requests whose function took longer than its round trip"
# Cold then warm.
[[ $(q "SELECT group_concat(cold) FROM (SELECT cold FROM requests r JOIN services s ON s.id = r.service_id
        WHERE s.name = 'mandelbrot-bitmap@native' ORDER BY r.id)") == "1,0,0,0,0,0" ]] ||
  fail "mandelbrot was not cold then warm"
# CPU attribution: a warm CPU-bound request's CPU time matches its compute
# probe within 10%. The probe is wall-clock time, which a busy machine
# stretches (measured at load 10 on 2 cores: CPU a third of the probe, at
# load 17 a sixth, and the CPU times themselves 25% apart), so none may be
# above 1.1, every one is 20 ms or more (the request's own work is about
# 100 ms of CPU), and either the best of five is within 10%, or, on a busy
# machine, their CPU times agree within 30%: a request charged nothing, or
# another's time too, still fails.
ratios=$(q "SELECT cpu_ns, compute_ns FROM requests r JOIN services s
           ON s.id = r.service_id WHERE s.name = 'mandelbrot-bitmap@native' AND cold = 0" | tr '|' ' ')
echo "$ratios" | awk '{ r = $1 / $2; if (r > 1.1) bad = 1; if (r > 0.9) ok = 1; if ($1 < 20000000) bad = 1
    if (NR == 1 || $1 < lo) lo = $1; if ($1 > hi) hi = $1 }
  END { if (!ok) print "CPU attribution judged as on a busy machine (no ratio above 0.9)"
        exit !(NR == 5 && !bad && (ok || lo > 0.7 * hi)) }' ||
  fail "CPU/compute (ns) $(echo $ratios)"
# Memory: the 64 MiB request's peak.
peak=$(q "SELECT mem_peak_bytes FROM requests WHERE status_http = 200 AND io_calls IS NOT NULL
          AND service_id = (SELECT id FROM services WHERE name = 'faulty@native') ORDER BY id LIMIT 1")
((peak >= 64 * 1048576)) || fail "the 64 MiB request's peak is $peak bytes"
# The OOM kill: the instance's end, an event, a replacement.
[[ $(q "SELECT count(*) FROM instances WHERE end_reason = 'oom'") == 1 ]] || fail "no instance ended by oom"
[[ $(q "SELECT count(*) FROM events WHERE kind = 'oom'") == 1 ]] || fail "no oom event"
[[ $(q "SELECT count(*) FROM instances WHERE end_reason = 'timeout'") == 1 ]] || fail "no timeout instance"
# The client that left: recorded with why.
[[ $(q "SELECT count(*) FROM requests WHERE error LIKE '%client closed%'") == 1 ]] ||
  fail "the abandoned request is not recorded as such"
# Every instance ended, with a reason and an exit status; samples were taken.
[[ $(q "SELECT count(*) FROM instances WHERE stop_ns IS NULL OR end_reason IS NULL") == 0 ]] ||
  fail "instances without an end: $(q "SELECT id, end_reason FROM instances WHERE stop_ns IS NULL OR end_reason IS NULL")"
(($(q "SELECT count(*) FROM samples") > 0)) || fail "no telemetry samples"

# The KPA autoscaler: four slow requests at once scale a service to four
# instances through a panic, and a calm stable window brings it back to zero.
DB=$TMP/kpa.db
serve --results "$DB" --autoscaler kpa --tick 100 --stable-window 1500 --panic-window 300 \
  --max-scale 4 --idle-timeout 60000
for i in 1 2 3 4 5 6 7 8; do
  curl -s -m 60 -o /dev/null -X POST -d '{"mode":"sleep","ms":700}' "$URL/function/faulty" &
done
wait $(jobs -p | grep -v "^$SERVE_PID$") 2>/dev/null || true
svc=$(curl -s "$URL/services")
[[ $(echo "$svc" | jq '.[] | select(.name=="faulty@native") | .cold_starts') -ge 2 ]] ||
  fail "the autoscaler did not scale out: $svc"
for _ in $(seq 60); do
  [[ $(curl -s "$URL/services" | jq '.[] | select(.name=="faulty@native") | .instances') == 0 ]] && break
  sleep 0.1
done
[[ $(curl -s "$URL/services" | jq '.[] | select(.name=="faulty@native") | .instances') == 0 ]] ||
  fail "not scaled back to zero after a calm stable window: $(curl -s "$URL/services")"
stop_serve
(($(q "SELECT count(*) FROM events WHERE kind = 'scale' AND json_extract(detail_json, '$.panic')") >= 1)) ||
  fail "no panic decision logged: $(q "SELECT detail_json FROM events")"
[[ $(q "SELECT count(*) FROM requests WHERE status_http = 200") == 8 ]] || fail "not all 8 answered"

# container_concurrency 2 on one instance: it holds two requests at a time
# and runs them one after the other; four parallel requests all answer.
DB=$TMP/cc.db
serve --results "$DB" --autoscaler none --max-scale 1 --container-concurrency 2
for i in 1 2 3 4; do
  curl -s -m 30 -o /dev/null -w '%{http_code}\n' -X POST -d '{"mode":"sleep","ms":200}' "$URL/function/faulty" >"$TMP/cc$i" &
done
wait $(jobs -p | grep -v "^$SERVE_PID$") 2>/dev/null || true
for i in 1 2 3 4; do [[ $(cat "$TMP/cc$i") == 200 ]] || fail "container concurrency 2, request $i: $(cat "$TMP/cc$i")"; done
stop_serve
[[ $(q "SELECT count(*) FROM instances") == 1 ]] || fail "more than one instance with max-scale 1"
# Each request ran alone on the instance: no two dispatch..result spans overlap.
bad=$(q "SELECT count(*) FROM requests a JOIN requests b ON a.id < b.id
  WHERE a.dispatch_ns < b.result_ns AND b.dispatch_ns < a.result_ns")
[[ $bad == 0 ]] || fail "$bad overlapping requests on one instance"
echo ok
