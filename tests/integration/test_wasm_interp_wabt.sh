# The wasm-interp-wabt runtime (wabt's reference interpreter): its helper
# lumos-wasm-interp-wabt passes args, env, stdin, stdout and the exit status through; reports
# traps (exit 134) and bad modules (exit 3) clearly without crashing; and serves the
# functions' channel (`lumos invoke --runtime wasm-interp-wabt`).
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# The helper and test modules of the same build as $LUMOS (build/ or build-asan/).
BUILD_DIR=$(dirname "$(readlink -f "$LUMOS")")
export LUMOS_LIBEXEC=${LUMOS_LIBEXEC:-$BUILD_DIR/libexec}
HELPER=$LUMOS_LIBEXEC/lumos-wasm-interp-wabt
[[ -x $HELPER ]] || fail "$HELPER is not built: run make"

# wasm NAME: the path of tests/wasm/NAME.wat built (by mk/interp.mk, or here when missing).
wasm() {
  local f=$BUILD_DIR/tests/wasm/$1.wasm
  if [[ ! -f $f ]]; then
    f=$TMP/$1.wasm
    wat2wasm -o "$f" "$ROOT/tests/wasm/$1.wat" || fail "wat2wasm $1.wat"
  fi
  echo "$f"
}

# No sanitizer report, crash or abort from the host itself.
host_ok() {
  [[ $ERR != *Sanitizer* && $ERR != *"runtime error"* && $ERR != *"Segmentation"* &&
    $ERR != *"terminate called"* ]] || fail "the host itself failed: $ERR"
}

# Passthrough: argv (argv[0] is the module as given; a "--x" after the module is the
# guest's), env (only what --env gives), stdin to stdout, exit status (proc_exit 7).
echo_wasm=$(wasm interp_echo)
printf 'line one\nline two\n' >"$TMP/in"
expect_exit 7 "$HELPER" --env A=1 --env 'B=x=y' -- "$echo_wasm" one 'two words' --dashed <"$TMP/in"
want=$(printf 'arg %s\narg one\narg two words\narg --dashed\nenv A=1\nenv B=x=y\nline one\nline two' \
  "$echo_wasm")
[[ $OUT == "$want" ]] || fail "echo output: got '$OUT', want '$want'"
[[ -z $ERR ]] || fail "unexpected stderr: $ERR"
# 1.3 MB through stdin and stdout in the guest's 32 KiB reads, byte for byte.
head -c 1000000 /dev/urandom | base64 >"$TMP/big"
"$HELPER" "$echo_wasm" <"$TMP/big" >"$TMP/big.out" && fail "echo should exit 7"
tail -c +$(($(wc -c <"$TMP/big.out") - $(wc -c <"$TMP/big") + 1)) "$TMP/big.out" | cmp -s - "$TMP/big" ||
  fail "stdin did not come back unchanged"
# No arguments, no env; stdin closed at once.
expect_exit 7 "$HELPER" "$echo_wasm" </dev/null
[[ $OUT == "arg $echo_wasm" ]] || fail "bare echo: $OUT"

# The host sees memory as it is at each call, after memory.grow moved it; returning from
# _start is exit status 0.
expect_exit 0 "$HELPER" "$(wasm interp_grow)"
[[ $OUT == grown ]] || fail "grow: $OUT"

# Traps: each one a line on stderr and exit 134; output written before it is kept.
expect_exit 134 "$HELPER" "$(wasm interp_trap_unreachable)"
[[ $OUT == "before the trap" ]] || fail "output before the trap: $OUT"
contains "$ERR" "lumos: wasm trap: unreachable"
host_ok
expect_exit 134 "$HELPER" "$(wasm interp_trap_oob)"
contains "$ERR" "lumos: wasm trap: out of bounds memory access"
host_ok
expect_exit 134 "$HELPER" "$(wasm interp_trap_div0)"
contains "$ERR" "lumos: wasm trap: integer divide by zero"
host_ok
expect_exit 134 "$HELPER" "$(wasm interp_trap_recursion)"
contains "$ERR" "lumos: wasm trap: call stack exhausted"
host_ok

# Modules that cannot run: exit 3 and a message naming the module and the reason.
m=$(wasm interp_unknown_import)
expect_exit 3 "$HELPER" "$m"
contains "$ERR" "cannot link $m"
contains "$ERR" "env.lumos_magic"
contains "$ERR" "wasi_snapshot_preview1.no_such_call"
m=$(wasm interp_bad_signature)
expect_exit 3 "$HELPER" "$m"
contains "$ERR" "wasi_snapshot_preview1.fd_write: declared as func (i32, i32) -> (i32)"
contains "$ERR" "(i32, i32, i32, i32) -> (i32)"
m=$(wasm interp_no_start)
expect_exit 3 "$HELPER" "$m"
contains "$ERR" "$m"
contains "$ERR" "no _start"
expect_exit 3 "$HELPER" "$TMP/missing.wasm"
contains "$ERR" "cannot read $TMP/missing.wasm: No such file"
expect_exit 3 "$HELPER" "$TMP"
contains "$ERR" "$TMP"
printf 'this is not wasm at all' >"$TMP/corrupt.wasm"
expect_exit 3 "$HELPER" "$TMP/corrupt.wasm"
contains "$ERR" "cannot load $TMP/corrupt.wasm: not a valid WebAssembly module"
host_ok
: >"$TMP/empty.wasm"
expect_exit 3 "$HELPER" "$TMP/empty.wasm"
contains "$ERR" "$TMP/empty.wasm"
head -c $(($(wc -c <"$echo_wasm") / 2)) "$echo_wasm" >"$TMP/truncated.wasm"
expect_exit 3 "$HELPER" "$TMP/truncated.wasm"
contains "$ERR" "cannot load $TMP/truncated.wasm"
host_ok
# Every byte flipped in turn at a few places: a clear error or a run, never a crash.
size=$(wc -c <"$echo_wasm")
for at in 8 9 10 20 40 80 200 400 $((size - 3)); do
  cp "$echo_wasm" "$TMP/flip.wasm"
  printf '\xff' | dd of="$TMP/flip.wasm" bs=1 seek="$at" conv=notrunc status=none
  rc=0
  "$HELPER" "$TMP/flip.wasm" </dev/null >/dev/null 2>"$TMP/err" || rc=$?
  ERR=$(cat "$TMP/err")
  [[ $rc == 3 || $rc == 7 || $rc == 134 ]] || fail "byte $at flipped: exit $rc: $ERR"
  host_ok
done
# Bad command lines: exit 2 with usage (3 for a missing --dir folder).
runner_cli_checks "$HELPER" lumos-wasm-interp-wabt "wabt 1.0.32 interpreter" "$echo_wasm"
expect_exit 2 "$HELPER" --fuzz-exec
contains "$ERR" "--fuzz-exec takes one module"
expect_exit 3 "$HELPER" --fuzz-exec "$TMP/corrupt.wasm"
contains "$ERR" "cannot load $TMP/corrupt.wasm"
expect_exit 3 "$HELPER" --fuzz-exec "$echo_wasm"
contains "$ERR" "not a fuzzing-support log"

# Through lumos: listed with its version, exec passes through, invoke speaks the channel.
expect_exit 0 "$LUMOS" runtimes --json
[[ $(echo "$OUT" | jq -r '.[] | select(.name=="wasm-interp-wabt") | .available') == true ]] ||
  fail "wasm-interp-wabt not available: $OUT"
contains "$(echo "$OUT" | jq -r '.[] | select(.name=="wasm-interp-wabt") | .version')" "wabt"
expect_exit 7 "$LUMOS" exec --runtime wasm-interp-wabt "$echo_wasm" --env K=V -- a b <"$TMP/in"
contains "$OUT" $'arg a\narg b\nenv K=V\nline one'
expect_exit 134 "$LUMOS" exec --runtime wasm-interp-wabt "$(wasm interp_trap_div0)"
contains "$ERR" "lumos: wasm trap: integer divide by zero"
expect_exit 0 "$LUMOS" invoke fibonacci --runtime wasm-interp-wabt --body '{"n":93}' --json
[[ $(echo "$OUT" | jq -r .response.data.value) == 12200160415121876738 ]] || fail "F(93): $OUT"
[[ $(echo "$OUT" | jq -r .response.runtime) == wasm-interp-wabt ]] || fail "runtime name: $OUT"

# Not built: a clear error naming the helper and `make`.
export LUMOS_LIBEXEC=$TMP/empty-libexec
expect_exit 0 "$LUMOS" runtimes --json
[[ $(echo "$OUT" | jq -r '.[] | select(.name=="wasm-interp-wabt") | .available') == false ]] ||
  fail "wasm-interp-wabt should be unavailable without its helper"
expect_exit 1 "$LUMOS" invoke fibonacci --runtime wasm-interp-wabt --body '{"n":3}'
contains "$ERR" "lumos-wasm-interp-wabt not found: run make"
echo ok
