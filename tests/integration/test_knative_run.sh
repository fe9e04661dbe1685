# `lumos run SPEC --platform knative` without a cluster: each service is a
# real lumos-front on loopback (as a pod runs it), and a fake kubectl
# (tests/integration/knative_run/kubectl, a stand-in for the control plane
# only) lists no pods and restarts the service's front, so every request of
# a cold cell reaches a new instance. The database must hold every
# request's row with the platform, the pod and the probes, in the client's
# order of times; a bad template, an unreachable URL, a failing kubectl and
# missing options give clear errors or recorded failures.
source "$(dirname "$0")/lib.sh"
FRONT=$(dirname "$(readlink -f "$LUMOS")")/libexec/lumos-front
[[ -x $FRONT ]] || fail "$FRONT is missing: run make"
export FAKE_KUBE=$TMP/kube
mkdir -p "$FAKE_KUBE" "$TMP/bin"
cp "$(dirname "$0")/knative_run/kubectl" "$TMP/bin/kubectl"

stop_fronts() {
  for p in "$FAKE_KUBE"/*/pid; do
    [[ -f $p ]] && kill -TERM "$(cat "$p")" 2>/dev/null || true
  done
}
trap "stop_fronts; [[ -n \${KEEP:-} ]] || cleanup" EXIT

start_redis
# front SERVICE FUNCTION RUNTIME: a lumos-front for SERVICE on a free port;
# sets PORT. The fake kubectl restarts it from $FAKE_KUBE/SERVICE.
front() {
  local d=$FAKE_KUBE/$1
  mkdir -p "$d"
  echo "$FRONT --function $2 --runtime $3 --listen 127.0.0.1 --redis $REDIS" >"$d/cmd"
  echo 1 >"$d/n"
  POD_NAME=$1-pod-1 POD_UID=uid-$1-1 $(cat "$d/cmd") --port 0 </dev/null >"$d/out" 2>"$d/err" &
  echo $! >"$d/pid"
  for _ in $(seq 300); do
    grep -q "listening on" "$d/out" 2>/dev/null && break
    sleep 0.05
  done
  PORT=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)$|\1|p' "$d/out")
  [[ -n $PORT ]] || fail "lumos-front $1 did not listen: $(cat "$d/err")"
  echo "$PORT" >"$d/port"
}
front fibonacci-native fibonacci native
P1=$PORT
front fibonacci-wasm-aot fibonacci wasm-aot
P2=$PORT

cat >"$TMP/spec.json" <<'JSON'
{ "name": "kn", "functions": ["fibonacci"], "runtimes": ["native", "wasm-aot"],
  "payloads": ["group:xs"], "starts": ["cold", "warm"],
  "loads": [{ "closed": 2, "requests": 4 }], "repetitions": 1, "warmup": 1,
  "timeout_ms": 10000, "seed": 1, "storage": "redis",
  "platform": { "defaults": { "max_scale": 2 } } }
JSON
# The cold cells take one request each, one at a time. The sanitizer
# build (slower at every step) takes one runtime: the test keeps under a
# minute.
NRT=2
sed 's/"closed": 2, "requests": 4/"closed": 1, "requests": 2/' "$TMP/spec.json" >"$TMP/cold.json"
if [[ $LUMOS == *build-asan* ]]; then
  NRT=1
  sed -i 's/"runtimes": \["native", "wasm-aot"\]/"runtimes": ["native"]/' "$TMP/cold.json"
fi

# 1. Both services by URL; cold starts forced through the fake kubectl.
DB=$TMP/run1/results.db
PATH=$TMP/bin:$PATH expect_exit 0 "$LUMOS" run "$TMP/cold.json" --platform knative --redis "$REDIS" \
  --db "$DB" --service-url "fibonacci-native=http://127.0.0.1:$P1/" \
  --service-url "fibonacci-wasm-aot=http://127.0.0.1:$P2/" --namespace bench
q() { sqlite3 "$DB" "$1"; }
# NRT runtimes x (cold: 2 requests; warm: 1 warm-up + 2 measured).
[[ $(q "select count(*) from requests") == $((5 * NRT)) ]] || fail "requests: $(q 'select count(*) from requests')"
[[ $(q "select count(*) from requests where status_http = 200 and instance_id is not null and
       error is null and deser_ns is not null and compute_ns is not null and func_total_ns > 0 and
       cpu_ns is not null") == $((5 * NRT)) ]] || fail "rows without their probes: $(q 'select * from requests limit 2')"
[[ $(q "select group_concat(distinct platform) from services") == knative ]] || fail "services.platform"
[[ $(q "select value from meta where key = 'platform'") == knative ]] || fail "meta.platform"
[[ $(q "select count(*) from cells where status = 'done' and error is null") == $((2 * NRT)) ]] ||
  fail "cells: $(q 'select id, status, error from cells')"
# Every request of a cold cell was cold, on an instance of a new pod.
[[ $(q "select count(*) from requests r join cells c on c.id = r.cell_id where c.start = 'cold' and
       r.cold = 1 and r.excluded is null") == $((2 * NRT)) ]] || fail "cold rows: $(q 'select id, cold, excluded from requests')"
[[ $(q "select count(distinct instance_id) from requests r join cells c on c.id = r.cell_id
       where c.start = 'cold'") == $((2 * NRT)) ]] || fail "cold requests share instances"
pods=$(q "select count(*) from instances where pod like 'fibonacci-%-pod-%' and pod_uid like 'uid-fibonacci-%'")
[[ $pods -ge $((2 * NRT)) && $pods == $(q "select count(*) from instances") ]] || fail "instances without pods: $(q 'select id, pod, pod_uid from instances')"
[[ $(q "select count(*) from instances where cold_start_ms > 0") -ge $((2 * NRT)) ]] || fail "cold starts"
[[ $(q "select count(*) from requests where excluded = 'warm-up'") == $NRT ]] || fail "warm-ups"
# The front's times lie inside the client's, in order.
[[ $(q "select count(*) from requests where send_ns <= ingress_ns and ingress_ns <= dispatch_ns and
       dispatch_ns <= result_ns and result_ns <= response_ns and response_ns <= receive_ns") == $((5 * NRT)) ]] ||
  fail "times out of order: $(q 'select send_ns, ingress_ns, dispatch_ns, result_ns, response_ns, receive_ns from requests limit 3')"
[[ $(grep -c "get pods -n bench -l serving.knative.dev/service=fibonacci-" "$FAKE_KUBE/calls") == $((2 * NRT)) ]] ||
  fail "kubectl calls: $(cat "$FAKE_KUBE/calls")"
[[ $(q "select count(*) from events where kind = 'cold-forced'") == $((2 * NRT)) ]] || fail "cold-forced events"
[[ -s $TMP/run1/index.html ]] || fail "no report"
expect_exit 0 "$LUMOS" report "$DB" --out "$TMP/rep1"
# The same readers as a local database's: summary by cell, a comparison.
expect_exit 0 "$LUMOS" results summary "$DB" --json
[[ $(echo "$OUT" | jq '.schema_version') == 6 ]] || fail "summary: $OUT"
expect_exit 0 "$LUMOS" compare "$DB" "$DB" --json

# 2. The template through an "ingress" (the front itself), the Host: its
# host; warm cells only, no kubectl.
sed 's/"starts": \["cold", "warm"\]/"starts": ["warm"]/; s/"runtimes": \["native", "wasm-aot"\]/"runtimes": ["native"]/' \
  "$TMP/spec.json" >"$TMP/warm.json"
: >"$FAKE_KUBE/calls"
expect_exit 0 "$LUMOS" run "$TMP/warm.json" --platform knative --redis "$REDIS" --db "$TMP/run2/r.db" \
  --url-template 'http://{service}.default.example.com/' --ingress "127.0.0.1:$P1" --cold none
[[ $(sqlite3 "$TMP/run2/r.db" "select count(*) from requests where status_http = 200") == 6 ]] ||
  fail "template run: $(sqlite3 "$TMP/run2/r.db" 'select id, status_http, error from requests')"
[[ $(sqlite3 "$TMP/run2/r.db" "select config_json from services") == *'"url":"http://fibonacci-native.default.example.com/"'* ]] ||
  fail "service URL: $(sqlite3 "$TMP/run2/r.db" 'select config_json from services')"
[[ ! -s $FAKE_KUBE/calls ]] || fail "kubectl ran for warm cells"

# 3. An unreachable service: every request's failure recorded, no crash.
expect_exit 0 "$LUMOS" run "$TMP/warm.json" --platform knative --redis "$REDIS" --db "$TMP/run3/r.db" \
  --service-url "fibonacci-native=http://127.0.0.1:1/"
[[ $(sqlite3 "$TMP/run3/r.db" "select count(*) from requests where error like 'connect: %' and instance_id is null") == 6 ]] ||
  fail "unreachable: $(sqlite3 "$TMP/run3/r.db" 'select id, error from requests')"
[[ $(sqlite3 "$TMP/run3/r.db" "select error from cells") == *"requests failed (first: connect: Connection refused"* ]] ||
  fail "cell error: $(sqlite3 "$TMP/run3/r.db" 'select error from cells')"

# 4. Errors before any work.
expect_exit 2 "$LUMOS" run "$TMP/warm.json" --platform knative --redis "$REDIS" --url-template 'http://{fn}.x/'
contains "$ERR" "unknown token {fn}"
expect_exit 2 "$LUMOS" run "$TMP/warm.json" --platform knative --redis "$REDIS" --url-template 'http://{service.x/'
contains "$ERR" "is not closed"
expect_exit 2 "$LUMOS" run "$TMP/warm.json" --platform knative
contains "$ERR" "needs --url-template"
expect_exit 2 "$LUMOS" run "$TMP/warm.json" --url-template 'http://x/'
contains "$ERR" "need --platform knative"
expect_exit 2 "$LUMOS" run "$TMP/warm.json" --platform knative --service-url nourl
contains "$ERR" "expected SERVICE=URL"
expect_exit 2 "$LUMOS" run "$TMP/warm.json" --platform knative --service-url a=b --cold sometimes
contains "$ERR" "expected zero, revision or none"
expect_exit 1 "$LUMOS" run "$TMP/warm.json" --platform knative --url-template 'http://{service}.default.example.com/' \
  --redis "$REDIS" --db "$TMP/run4/r.db"
contains "$ERR" "give --ingress HOST:PORT"
expect_exit 1 "$LUMOS" run "$TMP/warm.json" --platform knative --service-url "fibonacci-native=http://127.0.0.1:$P1/"
contains "$ERR" "needs --redis HOST:PORT"
# kubectl missing, and kubectl failing: the run says so and stops.
PATH=/usr/bin/nonexistent:/bin expect_exit 1 "$LUMOS" run "$TMP/cold.json" --platform knative --redis "$REDIS" \
  --db "$TMP/run5/r.db" --url-template "http://127.0.0.1:$P1/" --kubectl no-such-kubectl
contains "$ERR" "no-such-kubectl not found on PATH"
touch "$FAKE_KUBE/fibonacci-native/fail"
PATH=$TMP/bin:$PATH expect_exit 1 "$LUMOS" run "$TMP/cold.json" --platform knative --redis "$REDIS" \
  --db "$TMP/run6/r.db" --service-url "fibonacci-native=http://127.0.0.1:$P1/" \
  --service-url "fibonacci-wasm-aot=http://127.0.0.1:$P2/"
contains "$ERR" "kubectl get pods -l serving.knative.dev/service=fibonacci-native -n default"
contains "$ERR" "doesn't have a resource type"
echo "ok"
