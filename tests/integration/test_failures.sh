# A function that traps, exits, crashes, hangs or runs out of memory is
# reported with its cause under every available runtime, and the host
# itself never crashes with it.
source "$(dirname "$0")/lib.sh"

cgroups() { find /sys/fs/cgroup/memory/lumos /sys/fs/cgroup/lumos -mindepth 1 -maxdepth 1 -type d 2>/dev/null | sort || true; }
cgroups >"$TMP/cgroups.before"
runtimes=$("$LUMOS" runtimes --json | jq -r '.[] | select(.available) | .name' | grep -v '^container-slim$' | tr '\n' ' ')
[[ -n $runtimes ]] || fail "no runtime available"
checked=0
for rt in $runtimes; do
  wasm=0
  [[ $rt == wasm-* || $rt == *+wasm-* ]] && wasm=1
  inv() { "$LUMOS" invoke faulty --runtime "$rt" --timeout 20000 "$@"; }

  expect_exit 0 inv --body '{"mode":"ok"}'
  contains "$OUT" '"mode":"ok"'

  expect_exit 1 inv --body '{"mode":"trap"}'
  if ((wasm)); then contains "$ERR" "wasm trap: "; else contains "$ERR" "signal 4"; fi

  expect_exit 1 inv --body '{"mode":"segv"}'
  if ((wasm)); then contains "$ERR" "wasm trap: "; else contains "$ERR" "signal 11"; fi

  expect_exit 1 inv --body '{"mode":"recurse"}'
  if ((wasm)); then contains "$ERR" "wasm trap: "; else contains "$ERR" "signal 11"; fi

  expect_exit 1 inv --body '{"mode":"exit","status":7}'
  contains "$ERR" "exit status 7"

  # The timeout covers the start too: on a machine loaded by other tests
  # a slow runtime (node under ASan) may still be starting when it ends,
  # which is the same verdict, said of the start.
  expect_exit 1 "$LUMOS" invoke faulty --runtime "$rt" --timeout 3000 --body '{"mode":"hang"}'
  [[ $ERR == *"did not answer within 3000 ms"* || $ERR == *"did not get READY within 3000 ms"* ]] ||
    fail "a hang on $rt: expected 'did not answer within 3000 ms' in: $ERR"

  expect_exit 1 inv --memory-limit 160 --body '{"mode":"oom","mb":1500}'
  contains "$ERR" "OOM killer at its memory limit of 160 MiB"

  # Bad input is the function's answer, not a failure of the instance.
  expect_exit 1 inv --body '{"mode":"explode"}'
  contains "$OUT" '"error":"bad_request"'
  checked=$((checked + 1))
done
# No cgroup is left behind (others' may come and go meanwhile: only new
# ones of lumos processes that have ended count).
cgroups | comm -13 "$TMP/cgroups.before" - | while read -r dir; do
  pid=${dir##*/}
  pid=${pid%%-*}
  if [[ $pid =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null; then fail "cgroup $dir left behind"; fi
done
echo "ok: failures reported with their cause on $checked runtimes: $runtimes"
