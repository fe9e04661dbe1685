# The phases of cold starts through `lumos serve` (docs/cold-start.md): an
# idle-timeout cold start (idle_timeout_ms 0: every request starts its
# instance), forced cold starts (X-Lumos-Start: cold), a scale-out (three
# requests at once, three instances), on native, wasm-aot and wasm-interp-wabt,
# and a forced cold container where containers run. Every instance that
# became ready has every phase, in ns, adding up to its cold start
# (ready_ns - start_ns) within 1% or 20 us, on the host's clock; every cold
# request carries its instance's phases, warm ones none; launchers parked
# ahead of need give placements under 0.5 ms.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"

DB=$TMP/cold.db
serve --autoscaler none --max-scale 3 --idle-timeout 60000 --timeout 20000 --results "$DB"
deploy() { # json
  CODE=$(curl -s -o "$TMP/deploy" -w '%{http_code}' -X POST -d "$1" "$URL/services")
  [[ $CODE == 201 ]] || fail "deploy $1: $CODE $(cat "$TMP/deploy")"
}
rts=(native wasm-aot wasm-interp-wabt)
for rt in "${rts[@]}"; do
  deploy "{\"name\":\"noop@$rt\",\"idle_timeout_ms\":0}"
  deploy "{\"name\":\"fibonacci@$rt\",\"idle_timeout_ms\":60000}"
done
deploy '{"name":"faulty@native","idle_timeout_ms":60000,"max_scale":3}'
sleep 0.3 # the parked launchers place themselves

for rt in "${rts[@]}"; do
  # Idle-timeout cold starts: each request retires its instance.
  for _ in 1 2 3; do
    post "/function/noop@$rt" '{}'
    [[ $CODE == 200 ]] || fail "noop@$rt: $CODE $BODY"
    sleep 0.1
  done
  # A cold start, a warm request, then forced cold starts.
  post "/function/fibonacci@$rt" '{"n":10}'
  [[ $CODE == 200 ]] || fail "fibonacci@$rt: $CODE $BODY"
  post "/function/fibonacci@$rt" '{"n":10}'
  for _ in 1 2; do
    sleep 0.1
    post "/function/fibonacci@$rt" '{"n":10}' -H 'X-Lumos-Start: cold'
    [[ $CODE == 200 ]] || fail "forced cold fibonacci@$rt: $CODE $BODY"
  done
done
# Scale-out: three requests at once that each hold an instance a while.
for i in 1 2 3; do
  curl -s -o /dev/null -w '%{http_code}' -X POST -d '{"mode":"sleep","ms":300}' \
    "$URL/function/faulty@native" >"$TMP/code$i" &
done
wait $(jobs -p | grep -v "^$SERVE_PID$") 2>/dev/null || true
for i in 1 2 3; do [[ $(cat "$TMP/code$i") == 200 ]] || fail "scale-out request $i: $(cat "$TMP/code$i")"; done
container=0
if "$LUMOS" runtimes --json | jq -e '.[] | select(.name == "container" and .available)' >/dev/null; then
  container=1
  post /function/noop@container '{}'
  [[ $CODE == 200 ]] || fail "noop@container: $CODE $BODY"
  post /function/noop@container '{}' -H 'X-Lumos-Start: cold'
  [[ $CODE == 200 ]] || fail "forced cold noop@container: $CODE $BODY"
fi
curl -s -X POST "$URL/results/flush" >/dev/null
stop_serve

q() { sqlite3 "$DB" "$1"; }
PH="phase_placement_ns, phase_spawn_ns, phase_create_ns, phase_start_ns, phase_runtime_ns,"
PH+=" phase_load_ns, phase_instantiate_ns, phase_init_ns, phase_ready_ns"
SUM="phase_placement_ns + phase_spawn_ns + phase_create_ns + phase_start_ns + phase_runtime_ns"
SUM+=" + phase_load_ns + phase_instantiate_ns + phase_init_ns + phase_ready_ns"
ALL="phase_placement_ns IS NOT NULL AND phase_spawn_ns IS NOT NULL AND phase_create_ns IS NOT NULL"
ALL+=" AND phase_start_ns IS NOT NULL AND phase_runtime_ns IS NOT NULL AND phase_load_ns IS NOT NULL"
ALL+=" AND phase_instantiate_ns IS NOT NULL AND phase_init_ns IS NOT NULL AND phase_ready_ns IS NOT NULL"
NONNEG="min($PH) >= 0"

ready=$(q "SELECT count(*) FROM instances WHERE ready_ns IS NOT NULL")
[[ $ready -ge $((3 * 6 + 3 + container * 2)) ]] || fail "only $ready instances became ready"
# Every ready instance: all phases, none negative, the host's clock, the sum.
bad=$(q "SELECT id || ' ' || coalesce(phase_clock, 'NULL') FROM instances WHERE ready_ns IS NOT NULL
         AND NOT ($ALL AND $NONNEG AND phase_clock = 'monotonic'
                  AND abs($SUM - (ready_ns - start_ns)) <= max(20000, 0.01 * (ready_ns - start_ns)))")
[[ -z $bad ]] || fail "instances whose phases are missing or do not add up: $bad"
# Their own phases are there: Wasm loads a module, a container is created.
[[ $(q "SELECT count(*) FROM instances WHERE runtime LIKE 'wasm-%' AND ready_ns IS NOT NULL
        AND (phase_load_ns = 0 OR phase_runtime_ns = 0)") == 0 ]] || fail "a Wasm instance without load"
[[ $(q "SELECT count(*) FROM instances WHERE runtime = 'native' AND
        (phase_load_ns != 0 OR phase_create_ns != 0 OR phase_spawn_ns = 0)") == 0 ]] ||
  fail "a native instance with a Wasm or container phase"
if [[ $container == 1 ]]; then
  [[ $(q "SELECT count(*) FROM instances WHERE runtime = 'container' AND phase_create_ns > 0
          AND phase_start_ns > 0") == 2 ]] || fail "containers without create and start: $(q "SELECT $PH FROM instances WHERE runtime='container'")"
fi
# Placement ahead of need: the launchers parked for these services. Taking
# one is about 20 us; making a cgroup at need waits 7 to 12 ms on v1. The
# 0.5 ms target is bench/start_time's; here 5 ms tells the two apart on a
# loaded machine.
ahead=$(q "SELECT count(*) FROM instances WHERE placement_ahead_ns IS NOT NULL")
[[ $ahead -ge 6 ]] || fail "only $ahead instances were placed ahead of need"
slow=$(q "SELECT id || ' ' || phase_placement_ns FROM instances WHERE placement_ahead_ns IS NOT NULL
          AND phase_placement_ns >= 5000000")
[[ -z $slow ]] || fail "placements ahead of need that took 5 ms or more (made at need?): $slow"

# Each kind of cold start recorded its phases, in its instance and in the
# request that waited for it.
for rt in "${rts[@]}"; do
  # Idle timeout: three instances of noop, each retired idle, each request cold.
  [[ $(q "SELECT count(*) FROM requests r JOIN services s ON s.id = r.service_id
          WHERE s.name = 'noop@$rt' AND r.cold = 1 AND $ALL") == 3 ]] ||
    fail "noop@$rt: idle-timeout cold requests without phases"
  [[ $(q "SELECT count(*) FROM instances i JOIN services s ON s.id = i.service_id
          WHERE s.name = 'noop@$rt' AND i.end_reason = 'idle'") == 3 ]] ||
    fail "noop@$rt: not three idle-timeout instances"
  # Forced: two evictions, three cold requests with phases, one warm without.
  [[ $(q "SELECT count(*) FROM instances i JOIN services s ON s.id = i.service_id
          WHERE s.name = 'fibonacci@$rt' AND i.end_reason = 'forced-cold'") == 2 ]] ||
    fail "fibonacci@$rt: not two forced-cold instances"
  [[ $(q "SELECT count(*) FROM requests r JOIN services s ON s.id = r.service_id
          WHERE s.name = 'fibonacci@$rt' AND r.cold = 1 AND $ALL") == 3 ]] ||
    fail "fibonacci@$rt: forced cold requests without phases"
done
[[ $(q "SELECT count(*) FROM requests WHERE cold = 0 AND coalesce($PH, phase_clock) IS NOT NULL") == 0 ]] ||
  fail "warm requests with phases"
# Scale-out: three instances at once, each request cold with its phases.
[[ $(q "SELECT count(*) FROM requests r JOIN services s ON s.id = r.service_id
        WHERE s.name = 'faulty@native' AND r.cold = 1 AND $ALL") == 3 ]] ||
  fail "scale-out cold requests without phases: $(q "SELECT cold, $PH FROM requests r JOIN services s ON s.id = r.service_id WHERE s.name = 'faulty@native'")"
[[ $(q "SELECT count(DISTINCT instance_id) FROM requests r JOIN services s ON s.id = r.service_id
        WHERE s.name = 'faulty@native'") == 3 ]] || fail "scale-out did not start three instances"
# A cold request's phases are its instance's, and it waited until READY.
mismatch=$(q "SELECT r.id FROM requests r JOIN instances i ON i.id = r.instance_id WHERE r.cold = 1
              AND (r.phase_spawn_ns IS NOT i.phase_spawn_ns OR r.phase_init_ns IS NOT i.phase_init_ns
                   OR r.phase_ready_ns IS NOT i.phase_ready_ns OR r.phase_clock IS NOT i.phase_clock
                   OR r.cold_ready_ns != i.ready_ns)")
[[ -z $mismatch ]] || fail "cold requests whose phases are not their instance's: $mismatch"
echo "ok: $ready cold starts split, $ahead placed ahead of need"
