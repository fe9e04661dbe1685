#!/usr/bin/env bash
# lumos-test: serial (see tests/run)
# test_shape_tbf.sh -- the kernel's tbf through `lumos shape tbf` on a veth
# pair into a network namespace of the test's own: 4 MiB from the host
# into the namespace arrive at the configured 40 Mbit/s within 10 %, the
# qdisc is there while set and gone after --clear (and the same transfer is
# then faster than the rate). Needs root and ip netns; skips without them.
source "$(dirname "$0")/lib.sh"

if [[ $(id -u) -ne 0 ]] || ! command -v ip >/dev/null || ! command -v tc >/dev/null; then
  echo "SKIP: tbf on a veth needs root, ip and tc (iproute2)"
  exit 0
fi
ns=lumos-test-tbf-$$
veth=lmt$$a
peer=lmt$$b
sub=$((RANDOM % 200 + 20))
if ! ip netns add "$ns" 2>"$TMP/ns.err"; then
  echo "SKIP: cannot create a network namespace: $(cat "$TMP/ns.err")"
  exit 0
fi
SINK_PID=
cleanup_net() {
  [[ -n $SINK_PID ]] && kill "$SINK_PID" 2>/dev/null
  ip link del "$veth" 2>/dev/null
  ip netns del "$ns" 2>/dev/null
  cleanup
}
trap cleanup_net EXIT

ip link add "$veth" type veth peer name "$peer"
ip link set "$peer" netns "$ns"
ip addr add "10.213.$sub.1/30" dev "$veth"
ip link set "$veth" up
ip -n "$ns" addr add "10.213.$sub.2/30" dev "$peer"
ip -n "$ns" link set "$peer" up
ip -n "$ns" link set lo up

xfer=$(dirname "$0")/shape_xfer.py
# The system's python starts in a fraction of a second (a pyenv shim may not).
py=$(command -v /usr/bin/python3 || command -v python3)
bytes=$((4 << 20))
# transfer: seconds for $bytes from the host into the namespace.
transfer() {
  local port=$((30000 + RANDOM % 20000))
  ip netns exec "$ns" "$py" "$xfer" sink "10.213.$sub.2" "$port" "$bytes" >"$TMP/sink.out" &
  SINK_PID=$!
  for _ in $(seq 100); do
    grep -q ready "$TMP/sink.out" 2>/dev/null && break
    sleep 0.05
  done
  "$py" "$xfer" send "10.213.$sub.2" "$port" "$bytes"
  wait "$SINK_PID"
  SINK_PID=
}

expect_exit 2 "$LUMOS" shape tbf --dev "$veth"
contains "$ERR" "--rate R or --clear"
expect_exit 1 "$LUMOS" shape tbf --dev nosuchdev0 --rate 10mbit
contains "$ERR" "tc failed"
expect_exit 2 "$LUMOS" shape tbf --dev "$veth" --rate 10
contains "$ERR" "needs a unit"

expect_exit 0 "$LUMOS" shape tbf --dev "$veth" --rate 40mbit
qd=$(tc qdisc show dev "$veth")
contains "$qd" "tbf"
contains "$qd" "rate 40Mbit"
secs=$(transfer)
# tbf counts whole frames: a 1514-byte frame carries 1448 bytes of TCP
# payload (with timestamps), so the goodput of 40 Mbit/s is 38.26 Mbit/s.
mbit=$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.2f", b * 8 / s / 1e6 }')
want=$(awk 'BEGIN { printf "%.2f", 40 * 1448 / 1514 }')
echo "tbf 40mbit: 4 MiB in ${secs}s = ${mbit} Mbit/s of TCP payload (expected $want)"
awk -v m="$mbit" -v w="$want" 'BEGIN { exit !(m > w * 0.9 && m < w * 1.1) }' ||
  fail "tbf at 40 Mbit/s gave $mbit Mbit/s of payload for 4 MiB, expected $want within 10 %"

# Inside the namespace too (the nodes' side of a veth), then cleared.
expect_exit 0 "$LUMOS" shape tbf --dev "$peer" --netns "$ns" --rate 10mbit --latency 20ms
contains "$(ip netns exec "$ns" tc qdisc show dev "$peer")" "rate 10Mbit"
expect_exit 0 "$LUMOS" shape tbf --dev "$peer" --netns "$ns" --clear
expect_exit 0 "$LUMOS" shape tbf --dev "$veth" --clear
[[ $(tc qdisc show dev "$veth") != *tbf* ]] || fail "tbf still on $veth after --clear"
expect_exit 0 "$LUMOS" shape tbf --dev "$veth" --clear # nothing to clear is fine
fast=$(transfer)
awk -v f="$fast" -v s="$secs" 'BEGIN { exit !(f < s / 2) }' ||
  fail "without tbf the transfer took ${fast}s, with it ${secs}s"
echo "ok"
