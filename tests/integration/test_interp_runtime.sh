# The wasm-interp runtime's wiring (Lumos' own interpreter, helper lumos-interp): unavailable
# with a clear reason while the helper is missing; with a stand-in helper (a link to wabt's,
# which has the same command line) `lumos exec` and `lumos invoke` pass the module, args, env
# and data folder through it under its own name; with the real helper, the same and its
# version. The interpreter itself is tested by its own tests (docs/interp.md).
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=$(dirname "$(readlink -f "$LUMOS")")
REAL=$BUILD_DIR/libexec
WABT=$REAL/lumos-wasm-interp-wabt
[[ -x $WABT ]] || fail "$WABT is not built: run make"

wasm() { # NAME: tests/wasm/NAME.wat built (by mk/interp.mk, or here)
  local f=$BUILD_DIR/tests/wasm/$1.wasm
  if [[ ! -f $f ]]; then
    f=$TMP/$1.wasm
    wat2wasm -o "$f" "$ROOT/tests/wasm/$1.wat" || fail "wat2wasm $1.wat"
  fi
  echo "$f"
}
echo_wasm=$(wasm interp_echo)
printf 'line one\n' >"$TMP/in"
field() { jq -r ".[] | select(.name==\"$1\") | .$2" <<<"$OUT"; }

# 1. Missing: unavailable, and every use says what is missing and what to do.
mkdir "$TMP/empty"
export LUMOS_LIBEXEC=$TMP/empty
expect_exit 0 "$LUMOS" runtimes --json
[[ $(field wasm-interp available) == false ]] || fail "wasm-interp available without lumos-interp"
contains "$(field wasm-interp why_not)" "$TMP/empty/lumos-interp not found: run make"
contains "$(field wasm-interp description)" "Lumos' own interpreter"
contains "$(field wasm-interp-wabt description)" "wabt's reference interpreter"
expect_exit 1 "$LUMOS" invoke fibonacci --runtime wasm-interp --body '{"n":3}'
contains "$ERR" "lumos-interp not found: run make"
expect_exit 1 "$LUMOS" exec --runtime wasm-interp "$echo_wasm"
contains "$ERR" "lumos-interp not found"
expect_exit 0 "$LUMOS" runtimes
contains "$OUT" "wasm-interp-wabt"

# 2. A stand-in helper: the adapter's command line, under the runtime's own name.
mkdir "$TMP/standin"
ln -s "$WABT" "$TMP/standin/lumos-interp"
export LUMOS_LIBEXEC=$TMP/standin
expect_exit 0 "$LUMOS" runtimes --json
[[ $(field wasm-interp available) == true ]] || fail "the stand-in is not used: $OUT"
[[ $(field wasm-interp version) == "wabt 1.0.32 interpreter" ]] ||
  fail "version from the helper's --version: $(field wasm-interp version)"
expect_exit 7 "$LUMOS" exec --runtime wasm-interp "$echo_wasm" --env K=V -- a 'b c' <"$TMP/in"
[[ $OUT == "$(printf 'arg %s\narg a\narg b c\nenv K=V\nline one' "$echo_wasm")" ]] ||
  fail "exec through wasm-interp: $OUT"
expect_exit 0 "$LUMOS" invoke fibonacci --runtime wasm-interp --body '{"n":93}' --json
[[ $(jq -r .response.data.value <<<"$OUT") == 12200160415121876738 ]] || fail "F(93): $OUT"
[[ $(jq -r .response.runtime <<<"$OUT") == wasm-interp ]] || fail "runtime name: $OUT"

# 3. The real helper, once the interpreter is built.
if [[ ! -x $REAL/lumos-interp || $(readlink -f "$REAL/lumos-interp") == "$(readlink -f "$WABT")" ]]; then
  echo "skip: $REAL/lumos-interp is not built (Lumos' interpreter, src/interp): parts 1 and 2 only"
  echo ok
  exit 0
fi
export LUMOS_LIBEXEC=$REAL
expect_exit 0 "$LUMOS" runtimes --json
[[ $(field wasm-interp available) == true ]] || fail "wasm-interp not available: $OUT"
contains "$(field wasm-interp version)" "Lumos"
expect_exit 7 "$LUMOS" exec --runtime wasm-interp "$echo_wasm" --env K=V -- a 'b c' <"$TMP/in"
[[ $OUT == "$(printf 'arg %s\narg a\narg b c\nenv K=V\nline one' "$echo_wasm")" ]] ||
  fail "exec through lumos-interp: $OUT"
expect_exit 134 "$LUMOS" exec --runtime wasm-interp "$(wasm interp_trap_div0)"
contains "$ERR" "lumos: wasm trap:"
expect_exit 0 "$LUMOS" invoke fibonacci --runtime wasm-interp --body '{"n":93}' --json
[[ $(jq -r .response.data.value <<<"$OUT") == 12200160415121876738 ]] || fail "F(93): $OUT"
echo ok
