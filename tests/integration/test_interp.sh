# Lumos' interpreter's runner, lumos-interp: the same command line, passthrough, traps, exit
# statuses and messages as lumos-wasm-interp (the wabt runner); bad modules (malformed,
# invalid, unknown import, trapping start) fail clearly, never crash; fuel and a deadline
# stop a hung guest; every built-in function gives native's answers through it (the wabt
# tier's channel, with lumos-interp in its place); --fuzz-exec prints its event lines.
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=$(dirname "$(readlink -f "$LUMOS")")
LIBEXEC=${LUMOS_LIBEXEC:-$BUILD_DIR/libexec}
HELPER=$LIBEXEC/lumos-interp
[[ -x $HELPER ]] || fail "$HELPER is not built: run make"

wasm() { # NAME: tests/wasm/NAME.wat or tests/interp/NAME.wat, built here
  local src=$ROOT/tests/wasm/$1.wat
  [[ -f $src ]] || src=$ROOT/tests/interp/$1.wat
  wat2wasm ${2:-} -o "$TMP/$1.wasm" "$src" || fail "wat2wasm $1"
  echo "$TMP/$1.wasm"
}
host_ok() {
  [[ $ERR != *Sanitizer* && $ERR != *"runtime error"* && $ERR != *"Segmentation"* ]] ||
    fail "the host itself failed: $ERR"
}

# Passthrough: argv, env, stdin to stdout, exit status.
echo_wasm=$(wasm interp_echo)
printf 'line one\nline two\n' >"$TMP/in"
expect_exit 7 "$HELPER" --env A=1 --env 'B=x=y' -- "$echo_wasm" one 'two words' --dashed <"$TMP/in"
want=$(printf 'arg %s\narg one\narg two words\narg --dashed\nenv A=1\nenv B=x=y\nline one\nline two' \
  "$echo_wasm")
[[ $OUT == "$want" ]] || fail "echo output: got '$OUT', want '$want'"
[[ -z $ERR ]] || fail "unexpected stderr: $ERR"
head -c 300000 /dev/urandom | base64 >"$TMP/big"
"$HELPER" "$echo_wasm" <"$TMP/big" >"$TMP/big.out" && fail "echo should exit 7"
tail -c +$(($(wc -c <"$TMP/big.out") - $(wc -c <"$TMP/big") + 1)) "$TMP/big.out" | cmp -s - "$TMP/big" ||
  fail "stdin did not come back unchanged"
expect_exit 0 "$HELPER" "$(wasm interp_grow)"
[[ $OUT == grown ]] || fail "grow: $OUT"
# A module from a pipe is read, not mapped (a regular file is mapped): the same run.
expect_exit 7 "$HELPER" --env A=1 --env 'B=x=y' -- <(cat "$echo_wasm") one 'two words' --dashed \
  <"$TMP/in"
[[ ${OUT#*$'\n'} == "${want#*$'\n'}" ]] || fail "echo from a pipe: got '$OUT'"
expect_exit 3 "$HELPER" "$TMP"
contains "$ERR" "cannot read $TMP: Is a directory"

# Traps: the wasm-aot words, exit 134, output before the trap kept.
expect_exit 134 "$HELPER" "$(wasm interp_trap_unreachable)"
[[ $OUT == "before the trap" ]] || fail "output before the trap: $OUT"
contains "$ERR" "lumos: wasm trap: unreachable"
expect_exit 134 "$HELPER" "$(wasm interp_trap_oob)"
contains "$ERR" "lumos: wasm trap: out of bounds memory access"
expect_exit 134 "$HELPER" "$(wasm interp_trap_div0)"
contains "$ERR" "lumos: wasm trap: integer divide by zero"
expect_exit 134 "$HELPER" "$(wasm interp_trap_recursion)"
contains "$ERR" "lumos: wasm trap: call stack exhausted"
expect_exit 134 "$HELPER" "$(wasm deep)"
contains "$ERR" "lumos: wasm trap: call stack exhausted"
# The translator's fusions on their edges: right answers (else unreachable), then a fused
# load's out-of-bounds trap.
expect_exit 134 "$HELPER" "$(wasm interp_fused)"
contains "$ERR" "lumos: wasm trap: out of bounds memory access"
host_ok

# A hung guest: fuel, or a deadline (measured against a no-limit reference: it must stop).
hang=$(wasm hang)
LUMOS_INTERP_FUEL=1000000 expect_exit 134 "$HELPER" "$hang"
contains "$ERR" "lumos: wasm trap: fuel exhausted"
LUMOS_INTERP_DEADLINE_MS=200 expect_exit 134 timeout 30 "$HELPER" "$hang"
contains "$ERR" "lumos: wasm trap: fuel exhausted"

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
contains "$ERR" "no _start"
m=$(wasm trap_start)
expect_exit 3 "$HELPER" "$m"
contains "$ERR" "cannot instantiate $m: trap: integer divide by zero"
m=$(wasm invalid --no-check)
expect_exit 3 "$HELPER" "$m"
contains "$ERR" "cannot load $m: not a valid WebAssembly module"
contains "$ERR" "invalid: type mismatch"
expect_exit 3 "$HELPER" "$TMP/missing.wasm"
contains "$ERR" "cannot read $TMP/missing.wasm: No such file"
printf 'this is not wasm at all' >"$TMP/corrupt.wasm"
expect_exit 3 "$HELPER" "$TMP/corrupt.wasm"
contains "$ERR" "malformed: magic header not detected"
: >"$TMP/empty.wasm"
expect_exit 3 "$HELPER" "$TMP/empty.wasm"
head -c $(($(wc -c <"$echo_wasm") / 2)) "$echo_wasm" >"$TMP/truncated.wasm"
expect_exit 3 "$HELPER" "$TMP/truncated.wasm"
contains "$ERR" "malformed"
# The module ends right after a body's last `loop` opcode, before its block type (found by
# tests/fuzz/run_interp_load: the type was read past the end; the sanitizer build saw it).
printf '\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x0b\x01\x09\x00\x03\x40\x0c\x00\x0b\x41\x01\x03' \
  >"$TMP/cut-block-type.wasm"
expect_exit 3 "$HELPER" "$TMP/cut-block-type.wasm"
contains "$ERR" "malformed: unexpected end"
# Bytes flipped in a real function module: a clear error or a run, never a crash.
fib=$BUILD_DIR/artifacts/wasm/fibonacci.wasm
[[ -f $fib ]] || fib=$ROOT/build/artifacts/wasm/fibonacci.wasm
size=$(wc -c <"$fib")
for at in 8 9 10 11 20 40 80 200 400 1000 3000 $((size / 2)) $((size - 3)); do
  for byte in '\xff' '\x00' '\x0b'; do
    cp "$fib" "$TMP/flip.wasm"
    printf "$byte" | dd of="$TMP/flip.wasm" bs=1 seek="$at" conv=notrunc status=none
    rc=0
    LUMOS_INTERP_FUEL=100000000 "$HELPER" "$TMP/flip.wasm" </dev/null >/dev/null 2>"$TMP/err" || rc=$?
    ERR=$(cat "$TMP/err")
    [[ $rc -lt 128 || $rc == 134 ]] || fail "byte $at set to $byte: exit $rc: $ERR"
    host_ok
  done
done
# Bad command lines: exit 2 with usage (3 for a missing --dir folder).
runner_cli_checks "$HELPER" lumos-interp "Lumos interpreter" "$echo_wasm"
expect_exit 0 "$HELPER" --help
contains "$OUT" "--fuzz-exec"

# Every built-in function: the same answers as native, through the wasm-interp runtime's
# channel (lumos-interp).
LUMOS_RUNTIMES_UNDER_TEST=wasm-interp \
  bash "$ROOT/tests/integration/test_same_answers.sh" >"$TMP/same.log" 2>&1 ||
  fail "same answers: $(tail -20 "$TMP/same.log")"
contains "$(cat "$TMP/same.log")" "answered byte-identically on: native wasm-interp"

# --fuzz-exec on a binaryen module from fixed bytes: log/call lines, then memory.
if command -v wasm-opt >/dev/null; then
  head -c 3000 /dev/zero | tr '\0' 'a' >"$TMP/seed"
  for i in $(seq 1 200); do printf '%08d' $((i * 7919 % 100003)); done >>"$TMP/seed"
  wasm-opt -ttf "$TMP/seed" -o "$TMP/fz.wasm" 2>/dev/null || fail "wasm-opt -ttf"
  expect_exit 0 "$HELPER" --fuzz-exec "$TMP/fz.wasm"
  [[ $(echo "$OUT" | tail -1) =~ ^memory\ ([0-9]+\ [0-9a-f]{16}|none)$ ]] || fail "fuzz memory line: $OUT"
  echo "$OUT" | grep -Eqv '^(log (i32|i64) -?[0-9]+|log (f32|f64) 0x[0-9a-f]+|call [^ ]+ (->( (i32|i64) -?[0-9]+| (f32|f64) 0x[0-9a-f]+)*|trap [a-z :]+)|memory ([0-9]+ [0-9a-f]{16}|none))$' &&
    fail "fuzz output line of an unknown shape: $OUT"
  echo "$OUT" | grep -q '^call ' || fail "fuzz: no call line: $OUT"
  # The same module twice: the same output.
  "$HELPER" --fuzz-exec "$TMP/fz.wasm" | cmp -s - <(echo "$OUT") || fail "fuzz output not stable"
fi
echo ok
