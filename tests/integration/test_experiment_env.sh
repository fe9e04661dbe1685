#!/usr/bin/env bash
# test_experiment_env.sh -- the environment axes of an experiment
# (docs/experiments.md): bad node and network values fail before any work,
# naming the axis and the value; the matrix crosses them; a real run on the
# host and a Pi-4 node (root, ip netns) records cells.node, places every
# request of a pi4 cell on pi4, resumes by name, and its report has the
# environment table; a network axis runs through `lumos serve --network`
# and records what each value stood for.
source "$(dirname "$0")/lib.sh"

spec() { # name node-json network-json [extra]
  cat >"$TMP/$1.json" <<EOF
{"name": "$1", "functions": ["fibonacci"], "runtimes": ["native"], "skip_unavailable": false,
 "payloads": ["group:xs"], "starts": ["cold", "warm"], "loads": [{"closed": 1, "requests": 3}],
 "repetitions": 1, "warmup": 1, "timeout_ms": 30000 ${2:-} ${3:-} ${4:-},
 "platform": {"defaults": {"max_scale": 2, "autoscaler": "none", "idle_timeout_ms": 60000}}}
EOF
}

# 1. Strict: the axis and the value in every message, before any work.
spec bad1 ', "node": ["host", "pi3"]'
expect_exit 1 "$LUMOS" run "$TMP/bad1.json" --check
contains "$ERR" 'node[1]: unknown node profile "pi3" (known: pi4, pi5, cloud; or "host"'
spec bad2 '' ', "network": ["delay=abc"]'
expect_exit 1 "$LUMOS" run "$TMP/bad2.json" --check
contains "$ERR" 'network[0]: bad condition "delay=abc"'
spec bad3 '' ', "network": ["lan", "satellite"]'
expect_exit 1 "$LUMOS" run "$TMP/bad3.json" --check
contains "$ERR" 'network[1]: unknown network preset "satellite" (known: none, lan, wifi, congested'
spec bad4 ', "node": ["pi4", "pi4"]'
expect_exit 1 "$LUMOS" run "$TMP/bad4.json" --check
contains "$ERR" 'node[1]: "pi4" is listed twice'
spec bad5 '' ', "network": ["edge"]' ', "network_presets": {"edge": "rate=fast"}'
expect_exit 1 "$LUMOS" run "$TMP/bad5.json" --check
contains "$ERR" 'network_presets.edge: bad condition "rate=fast"'
spec bad6 ', "node": "pi4"'
expect_exit 1 "$LUMOS" run "$TMP/bad6.json" --check
contains "$ERR" 'node: must be a non-empty array'

# 2. The matrix: nodes x networks x the rest, named by both.
spec mx ', "node": ["host", "pi4"]' ', "network": ["none", "edge", "rate=10mbit,delay=5ms"]' \
  ', "network_presets": {"edge": "rate=20mbit,delay=10ms"}'
expect_exit 0 "$LUMOS" run "$TMP/mx.json" --check
contains "$OUT" "12 cells"
contains "$OUT" "fibonacci@native/group:xs/warm/closed:1x3/node:pi4/net:edge/rep1"
contains "$OUT" "node:host/net:rate=10mbit,delay=5ms/rep1"
expect_exit 0 "$LUMOS" run experiments/edge.json --check
contains "$OUT" "64 cells"

if [[ $(id -u) -ne 0 ]] || ! command -v ip >/dev/null || ! ip netns list >/dev/null 2>&1; then
  echo "SKIP: test_experiment_env.sh needs root and ip netns for the node runs"
  echo "PASS test_experiment_env.sh (checks only)"
  exit 0
fi
# The namespaces of this run's gateways (their pids are in the instances'
# groups, node-NAME-PID) must be gone; other processes' nodes are theirs.
left_over() {
  local pids
  pids=$(sqlite3 "$db" "SELECT DISTINCT cgroup FROM instances WHERE node IS NOT NULL" |
    sed -n 's|.*/node-[a-z0-9-]*-\([0-9]*\)/.*|\1|p' | sort -u)
  for p in $pids; do ip netns list | grep -- "lumos-node-.*-$p\b" || true; done
}

# 3. A real run on the host and on pi4.
spec nodes ', "node": ["host", "pi4"]'
expect_exit 0 "$LUMOS" run "$TMP/nodes.json" --db "$TMP/n/results.db"
db=$TMP/n/results.db
q() { sqlite3 "$db" "$1"; }
[[ $(q "SELECT group_concat(coalesce(node, '-'), ',') FROM (SELECT node FROM cells ORDER BY id)") == host,host,pi4,pi4 ]] ||
  fail "cells.node: $(q 'SELECT id, name, node FROM cells')"
[[ $(q "SELECT count(*) FROM cells WHERE status = 'done' AND error IS NULL") == 4 ]] ||
  fail "cells: $(q 'SELECT name, status, error FROM cells')"
# Every request of a pi4 cell ran on pi4, every one of a host cell on the host.
[[ $(q "SELECT count(*) FROM requests q JOIN cells c ON c.id = q.cell_id
  WHERE c.node = 'pi4' AND (q.node IS NULL OR q.node != 'pi4')") == 0 ]] || fail "a pi4 cell's request not on pi4"
[[ $(q "SELECT count(*) FROM requests q JOIN cells c ON c.id = q.cell_id WHERE c.node = 'pi4'") == 7 ]] ||
  fail "pi4 rows: $(q "SELECT cell_id, node FROM requests")"
[[ $(q "SELECT count(*) FROM requests q JOIN cells c ON c.id = q.cell_id
  WHERE c.node = 'host' AND q.node IS NOT NULL") == 0 ]] || fail "a host cell's request on a node"
[[ $(q "SELECT count(*) FROM instances WHERE node = 'pi4'") -ge 2 ]] || fail "pi4 instances"
[[ -f $TMP/n/gateway.log && -f $TMP/n/gateway-pi4-none.log ]] || fail "gateway logs: $(ls "$TMP/n")"
[[ -n $(sqlite3 "$db" "SELECT cgroup FROM instances WHERE node = 'pi4'" | grep -E '/node-pi4-[0-9]+/') ]] ||
  fail "no node group in instances.cgroup (the left-over check would prove nothing)"
[[ -z $(left_over) ]] || fail "nodes left: $(left_over)"
# The report shows both side by side.
expect_exit 0 "$LUMOS" report "$db" --format text
contains "$OUT" "environment: the same function on each node and link"
contains "$OUT" "pi4/none"
expect_exit 0 "$LUMOS" report "$db" --format json
[[ $(echo "$OUT" | jq -r '.environment.rows | length') == 4 ]] || fail "environment rows: $(echo "$OUT" | jq -c .environment)"
echo "fibonacci warm on pi4: compute $(echo "$OUT" | jq -r '.environment.rows[] | select(.node == "pi4" and .start == "warm") | .compute.ratio')x host's"

# 4. Resume: a cell is its name too. A done cell renamed (another
# environment's) is run again; the others are kept.
q "UPDATE cells SET name = replace(name, 'node:pi4', 'node:pi5') WHERE id = 4"
expect_exit 0 "$LUMOS" run "$TMP/nodes.json" --resume --db "$db"
contains "$ERR" "3 of 4 cells done, 1 to run"
contains "$ERR" "fibonacci@native/group:xs/warm/closed:1x3/node:pi4/rep1"
[[ $(q "SELECT name FROM cells WHERE id = 4") == *node:pi4* ]] || fail "cell 4 not run again"
[[ -z $(left_over) ]] || fail "nodes left: $(left_over)"

# 5. The network axis, through `lumos serve --network`; lan in the compact form.
WANT_LAN="delay=500us,jitter=100us:normal,rate=100mbit"
spec net '' ', "network": ["none", "lan"]'
expect_exit 0 "$LUMOS" run "$TMP/net.json" --db "$TMP/w/results.db"
[[ $(sqlite3 "$TMP/w/results.db" "SELECT group_concat(network, ',') FROM (SELECT network FROM cells ORDER BY id)") == none,none,lan,lan ]] ||
  fail "cells.network: $(sqlite3 "$TMP/w/results.db" 'SELECT id, network FROM cells')"
[[ $(sqlite3 "$TMP/w/results.db" "SELECT value FROM meta WHERE key = 'experiment.network.lan'") == "$WANT_LAN" ]] ||
  fail "network meta: $(sqlite3 "$TMP/w/results.db" "SELECT * FROM meta WHERE key LIKE 'experiment.network%'")"
[[ $(sqlite3 "$TMP/w/results.db" "SELECT value FROM meta WHERE key = 'experiment.network.none'") == none ]] || fail "none meta"
[[ -f $TMP/w/gateway.log && -f $TMP/w/gateway-host-lan.log ]] || fail "gateway logs: $(ls "$TMP/w")"
echo "PASS test_experiment_env.sh"
