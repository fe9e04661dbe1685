# lumos-front, the HTTP function front of a cluster's pod, run here on
# loopback under every runtime: for every built-in function on the
# smallest payload group, its answer is byte for byte the channel's
# (`lumos invoke`), its probe record has the channel's fields with the
# channel's byte counts, Server-Timing has the gateway's names and the
# probes add up; bad requests get HTTP errors; a crashing and a hanging
# function are answered 500 and 504, and the front goes on with a new
# instance. LUMOS_RUNTIMES_UNDER_TEST narrows the runtimes; all but native
# and wasm-aot take three of the functions unless LUMOS_FRONT_ALL=1.
source "$(dirname "$0")/lib.sh"
FRONT=$(dirname "$(readlink -f "$LUMOS")")/libexec/lumos-front
[[ -x $FRONT ]] || fail "$FRONT is missing: run make"

FRONT_PID=
stop_front() {
  if [[ -n $FRONT_PID ]]; then
    kill -TERM "$FRONT_PID" 2>/dev/null || true
    wait "$FRONT_PID" 2>/dev/null || true
  fi
  FRONT_PID=
}
trap 'stop_front; cleanup' EXIT

front() { # function runtime [options]: sets FRONT_PID and URL
  local fn=$1 rt=$2
  shift 2
  : >"$TMP/front.out" # not the last front's port (serve_lib.sh says why)
  "$FRONT" --function "$fn" --runtime "$rt" --listen 127.0.0.1 --port 0 --redis "$REDIS" \
    --storage-dir "$TMP/data" "$@" >"$TMP/front.out" 2>"$TMP/front.err" &
  FRONT_PID=$!
  for _ in $(seq 300); do
    grep -q "listening on" "$TMP/front.out" 2>/dev/null && break
    kill -0 "$FRONT_PID" 2>/dev/null || fail "lumos-front $fn $rt ended: $(cat "$TMP/front.err")"
    sleep 0.05
  done
  local port
  port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)$|\1|p' "$TMP/front.out")
  [[ -n $port ]] || fail "lumos-front $fn $rt did not listen: $(cat "$TMP/front.err")"
  URL=http://127.0.0.1:$port/
}

post() { # body [curl options]: sets CODE, BODY, TIMING, PROBES (X-Lumos-Front)
  local body=$1
  shift
  CODE=$(curl -s -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' -X POST --data-binary "$body" \
    "$@" "$URL") || fail "POST $URL: curl exit $?; the front said: $(tail -c 600 "$TMP/front.err")"
  BODY=$(cat "$TMP/body")
  TIMING=$(grep -i '^server-timing:' "$TMP/headers" | tr -d '\r' || true)
  PROBES=$(sed -n 's/^[Xx]-[Ll]umos-[Ff]ront: //p' "$TMP/headers" | tr -d '\r')
}

start_redis
"$LUMOS" data gen --seed 3 --groups xs --out "$TMP/data" --quiet
"$LUMOS" data load "$TMP/data" --redis "$REDIS" >/dev/null
N=000102030405060708090a0b

# The sanitizer build checks the front's own code on the quick runtimes; the
# normal build takes every runtime (runc and node start slowly under ASan).
wanted='.name == "native" or .name == "container" or .name == "wasm-aot" or
        .name == "wasm-interp" or .name == "wasm-jit"'
[[ $LUMOS == *build-asan* ]] && wanted='.name == "native" or .name == "wasm-aot" or .name == "wasm-interp"'
runtimes=${LUMOS_RUNTIMES_UNDER_TEST:-$("$LUMOS" runtimes --json | jq -r ".[] | select(.available) |
  select($wanted) | .name")}
echo "runtimes:" $runtimes
functions=$(jq -r '.requests.xs | keys[]' "$TMP/data/manifest.json")

compared=0
for fn in $functions; do
  # A fixed nonce: encryption answers the same every time.
  body=$(jq -c --arg n "$N" '.requests.xs["'"$fn"'"] | if "'"$fn"'" == "encrypt-message" then .nonce = $n else . end' \
    "$TMP/data/manifest.json")
  for rt in $runtimes; do
    # Native and wasm-aot take every function; the others (slower to start:
    # node's V8, runc, the interpreter) three, one of each kind (compute, a
    # GET, a PUT), unless LUMOS_FRONT_ALL=1: the test stays near a minute.
    if [[ ${LUMOS_FRONT_ALL:-0} != 1 && $rt != native && $rt != wasm-aot &&
      ! " fibonacci fuzzy-search mandelbrot-bitmap " == *" $fn "* ]]; then
      continue
    fi
    "$LUMOS" invoke "$fn" --runtime "$rt" --redis "$REDIS" --storage-dir "$TMP/data" \
      --body "$body" --json >"$TMP/invoke.json" 2>"$TMP/invoke.err" ||
      fail "invoke $fn $rt: $(cat "$TMP/invoke.err")"
    front "$fn" "$rt"
    post "$body"
    [[ $CODE == 200 ]] || fail "$fn $rt: front answered $CODE: $BODY"
    want=$(jq -c .response "$TMP/invoke.json")
    got=$(jq -c . <<<"$BODY")
    [[ $got == "$want" ]] || fail "$fn $rt: the front's answer is not the channel's:
front:  ${got:0:300}
invoke: ${want:0:300}"
    # The probe record: the channel's fields, its byte counts, parts adding up.
    jq -e --argjson inv "$(jq -c .probes "$TMP/invoke.json")" '
      (.probes | keys) == ($inv | keys) and
      .probes.io_read_bytes == $inv.io_read_bytes and .probes.io_write_bytes == $inv.io_write_bytes and
      .probes.io_calls == $inv.io_calls and
      (.probes.deser_ns + .probes.io_ns + .probes.compute_ns + .probes.ser_ns) == .probes.total_ns and
      .cold == 1 and .runtime == "'"$rt"'" and (.pod as $p | .instance | startswith($p + "/")) and
      .dispatch_ns < .result_ns and .result_ns <= .response_ns' <<<"$PROBES" >/dev/null ||
      fail "$fn $rt: probe record differs from the channel's: $PROBES vs $(jq -c .probes "$TMP/invoke.json")"
    for name in platform cold queue deser io compute ser total; do
      [[ $TIMING == *"$name;dur="* ]] || fail "$fn $rt: no $name in '$TIMING'"
    done
    # The second request is warm, on the same instance.
    post "$body"
    [[ $CODE == 200 && $(jq -r .cold <<<"$PROBES") == 0 ]] || fail "$fn $rt: second request: $CODE $PROBES"
    stop_front
    compared=$((compared + 1))
  done
done
echo "ok: $compared function/runtime pairs answer as the channel does"

# Bad requests, a crash, a hang: the front answers and goes on.
front faulty native --timeout 1500
post '{"mode":"ok"}'
[[ $CODE == 200 ]] || fail "faulty ok: $CODE $BODY"
first=$(jq -r .instance <<<"$PROBES")
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL")
[[ $code == 405 ]] || fail "GET / answered $code, expected 405"
post 'not json'
[[ $CODE == 400 ]] || fail "a body that is not JSON answered $CODE: $BODY"
post "$(head -c 300 /dev/zero | tr '\0' x)" -H 'Content-Type: application/json'
[[ $CODE == 400 ]] || fail "garbage answered $CODE"
post '{"mode":"segv"}'
[[ $CODE == 500 ]] || fail "a crash answered $CODE: $BODY"
contains "$BODY" instance_failed
post '{"mode":"ok"}'
[[ $CODE == 200 && $(jq -r .cold <<<"$PROBES") == 1 ]] || fail "after the crash: $CODE $PROBES"
[[ $(jq -r .instance <<<"$PROBES") != "$first" ]] || fail "after the crash: the same instance"
post '{"mode":"hang"}'
[[ $CODE == 504 ]] || fail "a hang answered $CODE: $BODY"
contains "$BODY" timeout
post '{"mode":"ok"}'
[[ $CODE == 200 ]] || fail "after the hang: $CODE $BODY"
code=$(curl -s -o "$TMP/h" -w '%{http_code}' "${URL}healthz")
[[ $code == 200 ]] && jq -e '.requests == 7' "$TMP/h" >/dev/null || fail "healthz: $code $(cat "$TMP/h")"
stop_front
front faulty native --max-body 100
post "{\"mode\":\"ok\",\"pad\":\"$(head -c 200 /dev/zero | tr '\0' x)\"}"
[[ $CODE == 413 ]] || fail "a body over --max-body answered $CODE"
stop_front

# Bad options and environment.
expect_exit 2 "$FRONT" --port 99999
expect_exit 1 "$FRONT" --function no-such-function --listen 127.0.0.1 --port 0
contains "$ERR" no-such-function
expect_exit 1 "$FRONT" --listen 127.0.0.1 --port 0
contains "$ERR" LUMOS_FUNCTION
expect_exit 0 "$FRONT" --help
contains "$OUT" PORT
echo "ok: errors answered, the front goes on"
