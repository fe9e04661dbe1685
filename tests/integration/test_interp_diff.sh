# Differential fuzzing on a fixed-seed corpus: 32 modules made by binaryen (`wasm-opt -ttf`)
# from seeds 1..32 give the same logs, results, traps and memory in Lumos' interpreter
# (lumos-interp --fuzz-exec) as in wabt's (lumos-wasm-interp-wabt --fuzz-exec); see
# tests/fuzz/run_interp_diff. First the comparison itself is checked with stand-ins (one
# that is wabt, one that gets the memory hash wrong), so it can fail; the corpus is skipped,
# with a message, while lumos-interp is not built.
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=$(dirname "$(readlink -f "$LUMOS")")
export LUMOS_BUILD=$BUILD_DIR
WABT=$BUILD_DIR/libexec/lumos-wasm-interp-wabt
[[ -x $WABT ]] || fail "$WABT is not built: run make"
command -v wasm-opt >/dev/null || fail "wasm-opt not found: run scripts/setup (binaryen)"
diffrun() { LUMOS_FUZZ_OUT=$TMP/fuzz "$ROOT/tests/fuzz/run_interp_diff" "$@"; }

# The oracle's own output: a -ttf module's exports, one line each, and the memory last.
python3 -c "import random,sys; r=random.Random(7); sys.stdout.buffer.write(r.randbytes(4096))" >"$TMP/r.bin"
wasm-opt "$TMP/r.bin" -ttf -mvp --enable-mutable-globals --enable-sign-ext \
  --enable-nontrapping-float-to-int --enable-bulk-memory --enable-multivalue -o "$TMP/m.wasm" 2>/dev/null
expect_exit 0 "$WABT" --fuzz-exec "$TMP/m.wasm"
grep -Eq '^call hashMemory (-> i32 -?[0-9]+|trap [a-z ]+)$' <<<"$OUT" || fail "no hashMemory call: $OUT"
grep -Eq '^memory [0-9]+ [0-9a-f]{16}$' <<<"$(tail -n 1 <<<"$OUT")" || fail "no memory line: $OUT"
grep -Evq '^(log (i32|i64) -?[0-9]+|log (f32|f64) 0x[0-9a-f]+|call [^ ]+ (->( (i32|i64) -?[0-9]+| (f32|f64) 0x[0-9a-f]+)*|trap [a-z ]+)|memory [0-9]+ [0-9a-f]{16})$' <<<"$OUT" &&
  fail "a line outside the format: $(grep -Ev '^(log|call|memory) ' <<<"$OUT" | head -3)"

# The comparison: wabt against itself is the same; a wrong memory hash is caught and kept.
ln -s "$WABT" "$TMP/same"
LUMOS_INTERP=$TMP/same expect_exit 0 diffrun --seeds 1:2
contains "$OUT" "2 the same, 0 different"
printf '#!/bin/sh\n"%s" "$@" | sed "s/^memory \\([0-9]*\\) .*/memory \\\\1 0000000000000000/"\n' \
  "$WABT" >"$TMP/wrong"
chmod +x "$TMP/wrong"
LUMOS_INTERP=$TMP/wrong expect_exit 1 diffrun --seeds 1:2
contains "$OUT" "0 the same, 2 different"
[[ -s $TMP/fuzz/interp-diff/seed-1/diff && -s $TMP/fuzz/interp-diff/seed-1/module.wasm ]] ||
  fail "the failing case is not kept: $(ls -R "$TMP/fuzz")"
contains "$(cat "$TMP/fuzz/interp-diff/seed-1/diff")" "> memory"
expect_exit 2 diffrun --seeds x

# The corpus, once Lumos' interpreter is built.
if [[ ! -x $BUILD_DIR/libexec/lumos-interp ]]; then
  echo "skip: $BUILD_DIR/libexec/lumos-interp is not built (Lumos' interpreter): corpus not run"
  echo ok
  exit 0
fi
rc=0
LUMOS_FUZZ_OUT=$BUILD_DIR/fuzz "$ROOT/tests/fuzz/run_interp_diff" --seeds 1:32 || rc=$?
[[ $rc == 0 ]] || fail "lumos-interp differs from wabt (exit $rc): cases in $BUILD_DIR/fuzz/interp-diff/"
echo ok
