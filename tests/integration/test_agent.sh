# `lumos agent` against control groups this test makes for real processes
# (cgroup v1 here: cpu, cpuacct, memory and pids apart; v2 as a tree of
# files when the machine has no v2), in the kubelet's cgroupfs and systemd
# names; its HTTP answers; and `lumos run --platform knative --agent`
# writing the agent's readings of a lumos-front's pod into samples.
source "$(dirname "$0")/lib.sh"
FRONT=$(dirname "$(readlink -f "$LUMOS")")/libexec/lumos-front
CG=/sys/fs/cgroup
if [[ $(id -u) != 0 || ! -d $CG/cpuacct || ! -d $CG/memory ]]; then
  echo "SKIP: needs root and cgroup v1 cpuacct and memory hierarchies"
  exit 0
fi
B=lumos-agent-test-$$
UID1=0c6f3e2a-1b2c-4d5e-8f90-123456789abc
UID2=7d1e2f3a-4b5c-4d6e-9f01-abcdefabcdef
CID=4f2a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a
PIDS=()
stop_all() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  for h in cpu cpuacct memory pids; do
    [[ -d $CG/$h/$B ]] || continue
    # Deepest first: a group with children cannot be removed.
    find "$CG/$h/$B" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}
trap 'stop_all; cleanup' EXIT

P1=kubepods/burstable/pod$UID1/$CID
P2=kubepods/burstable/kubepods-burstable-pod${UID2//-/_}.slice/cri-containerd-abc123.scope
for h in cpu cpuacct memory pids; do
  mkdir -p "$CG/$h/$B/$P1" "$CG/$h/$B/$P2"
done
join() { # PID REL: the process into REL in every hierarchy
  for h in cpu cpuacct memory pids; do echo "$1" >"$CG/$h/$B/$2/cgroup.procs"; done
}
# A CPU burner (bounded) in pod 1's container. It joins before it execs:
# joining timeout's pid from outside could leave md5sum, forked already,
# in the root group (pod 1's CPU then stood still).
(
  join $BASHPID "$P1"
  exec timeout 30 md5sum /dev/zero
) &
PIDS+=($!)
sleep 0.3

# 1. One scan: both pods, by uid, with their containers.
expect_exit 0 "$LUMOS" agent --once --json --kubepods "$B/kubepods" --node n1
echo "$OUT" >"$TMP/a.json"
jq -e --arg u "$UID1" --arg c "$CID" '.cgroup_version == 1 and .node == "n1" and
  (.pods[] | select(.pod_uid == $u) | .qos == "burstable" and .cpu_ns > 0 and .mem_current_bytes > 0 and
   .source != "none" and (.containers[0].id == $c) and .containers[0].cpu_ns > 0)' "$TMP/a.json" >/dev/null ||
  fail "pod 1: $OUT"
jq -e --arg u "$UID2" '.pods[] | select(.pod_uid == $u) | .containers[0].id == "abc123"' "$TMP/a.json" >/dev/null ||
  fail "pod 2 (systemd names): $OUT"
c1=$(jq --arg u "$UID1" '.pods[] | select(.pod_uid == $u) | .cpu_ns' "$TMP/a.json")
sleep 0.3
expect_exit 0 "$LUMOS" agent --once --json --kubepods "$B/kubepods"
c2=$(echo "$OUT" | jq --arg u "$UID1" '.pods[] | select(.pod_uid == $u) | .cpu_ns')
((c2 > c1)) || fail "CPU did not grow: $c1 then $c2"
expect_exit 0 "$LUMOS" agent --once --kubepods "$B/kubepods"
contains "$OUT" "2 pods (cgroup v1)"
contains "$OUT" "$UID1"

# 2. cgroup v2, as files: cpu.stat, memory.current, memory.peak.
V2=$TMP/cg2
mkdir -p "$V2/kubepods.slice/kubepods-pod${UID1//-/_}.slice"
touch "$V2/cgroup.controllers"
printf 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n' >"$V2/kubepods.slice/kubepods-pod${UID1//-/_}.slice/cpu.stat"
echo 4096 >"$V2/kubepods.slice/kubepods-pod${UID1//-/_}.slice/memory.current"
echo 8192 >"$V2/kubepods.slice/kubepods-pod${UID1//-/_}.slice/memory.peak"
expect_exit 0 "$LUMOS" agent --once --json --cgroup-root "$V2"
echo "$OUT" | jq -e --arg u "$UID1" '.cgroup_version == 2 and .pods[0].pod_uid == $u and
  .pods[0].qos == "guaranteed" and .pods[0].cpu_ns == 1500000 and .pods[0].mem_current_bytes == 4096 and
  .pods[0].mem_peak_bytes == 8192' >/dev/null || fail "v2: $OUT"

# 3. Bad input.
expect_exit 1 "$LUMOS" agent --once --cgroup-root "$TMP/none"
contains "$ERR" "no cgroup v1 cpuacct and memory hierarchies"
expect_exit 1 "$LUMOS" agent --once --kubepods "$B/nothing"
contains "$ERR" "--kubepods names where"
expect_exit 2 "$LUMOS" agent --port 70000
expect_exit 2 "$LUMOS" agent --json
expect_exit 2 "$LUMOS" agent --cgroup-version 3

# 4. Served over HTTP.
"$LUMOS" agent --listen 127.0.0.1 --port 0 --kubepods "$B/kubepods" --node n1 >"$TMP/agent.out" 2>"$TMP/agent.err" &
PIDS+=($!)
for _ in $(seq 200); do grep -q "listening on" "$TMP/agent.out" && break; sleep 0.05; done
AGENT=$(sed -n 's|.*listening on \(http://127.0.0.1:[0-9]*\)$|\1|p' "$TMP/agent.out")
[[ -n $AGENT ]] || fail "agent did not listen: $(cat "$TMP/agent.err")"
curl -sf "$AGENT/pods" | jq -e '.pods | length == 2' >/dev/null || fail "/pods"
curl -sf "$AGENT/pods/$UID1" | jq -e --arg u "$UID1" '.pods | length == 1 and .[0].pod_uid == $u' >/dev/null ||
  fail "/pods/UID"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$AGENT/pods/nope") == 404 ]] || fail "/pods/nope"
[[ $(curl -s -o /dev/null -w '%{http_code}' -X POST "$AGENT/pods") == 405 ]] || fail "POST"
curl -sf "$AGENT/metrics" | grep -q "^lumos_pod_cpu_seconds_total{pod_uid=\"$UID1\",container=\"\",node=\"n1\"} " ||
  fail "/metrics: $(curl -s "$AGENT/metrics" | head -12)"
curl -sf "$AGENT/healthz" | grep -q ok || fail "/healthz"

# 5. A knative run reads it: a lazy front (its instance starts at the first
# request, inside the front's group) as pod 1.
start_redis
POD_NAME=fib-pod POD_UID=$UID1 "$FRONT" --function fibonacci --runtime native --listen 127.0.0.1 \
  --port 0 --redis "$REDIS" --lazy </dev/null >"$TMP/front.out" 2>"$TMP/front.err" &
PIDS+=($!)
join $! "$P1"
for _ in $(seq 200); do grep -q "listening on" "$TMP/front.out" && break; sleep 0.05; done
FP=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)$|\1|p' "$TMP/front.out")
[[ -n $FP ]] || fail "front did not listen: $(cat "$TMP/front.err")"
cat >"$TMP/spec.json" <<'JSON'
{ "name": "agent", "functions": ["fibonacci"], "runtimes": ["native"], "payloads": ["group:xs"],
  "starts": ["warm"], "loads": [{ "closed": 1, "requests": 3 }], "repetitions": 1, "warmup": 1,
  "timeout_ms": 10000, "seed": 1, "storage": "redis", "platform": { "defaults": {} } }
JSON
expect_exit 0 "$LUMOS" run "$TMP/spec.json" --platform knative --redis "$REDIS" --db "$TMP/run/r.db" \
  --service-url "fibonacci-native=http://127.0.0.1:$FP/" --agent "$AGENT"
DB=$TMP/run/r.db
[[ $(sqlite3 "$DB" "select count(*) from instances where pod = 'fib-pod' and pod_uid = '$UID1'") == 1 ]] ||
  fail "instance: $(sqlite3 "$DB" 'select id, pod, pod_uid from instances')"
[[ $(sqlite3 "$DB" "select count(*) from samples s join instances i on i.id = s.instance_id
     where i.pod_uid = '$UID1' and s.cpu_user_ns + s.cpu_system_ns > 0 and s.mem_current_bytes > 0") -ge 2 ]] ||
  fail "samples: $(sqlite3 "$DB" 'select * from samples')"
# An agent that is gone: the cell says so; the requests are still recorded.
expect_exit 0 "$LUMOS" run "$TMP/spec.json" --platform knative --redis "$REDIS" --db "$TMP/run2/r.db" \
  --service-url "fibonacci-native=http://127.0.0.1:$FP/" --agent "http://127.0.0.1:1"
[[ $(sqlite3 "$TMP/run2/r.db" "select error from cells") == "agent: agent 127.0.0.1:1: connect: Connection refused"* ]] ||
  fail "agent gone: $(sqlite3 "$TMP/run2/r.db" 'select error from cells')"
[[ $(sqlite3 "$TMP/run2/r.db" "select count(*) from requests where status_http = 200") == 4 ]] || fail "rows"
echo ok
