# The wasm-aot runtime through `lumos exec` and `lumos build`: arguments,
# environment, stdin, stdout and the exit status pass through; traps are
# reported as "lumos: wasm trap: REASON" with status 134; a corrupt, a
# missing, a non-command and a badly linked module each give a clear error
# naming the file; the compiled executable is cached by content (a second
# run compiles nothing) and `lumos build` names it per function.
source "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=$ROOT/build/tests/wasi
[[ -f $W/echo.wasm && -f $W/trap_recursion.wasm ]] ||
  fail "test modules missing: run make test-unit (builds $W/*.wasm)"
ART=$TMP/artifacts
CACHE=$ART/wasm-aot/cache
aot() { "$LUMOS" exec --runtime wasm-aot --artifacts "$ART" "$@"; }

# Passthrough: arguments (argv[0] aside), environment, stdin, exit status.
printf 'line one\nline two\n' >"$TMP/in"
rc=0
aot "$W/echo.wasm" --env K=V --env EMPTY= -- a 'b c' <"$TMP/in" >"$TMP/out" 2>"$TMP/err" || rc=$?
[[ $rc -eq 7 ]] || fail "echo.wasm exited $rc, expected 7: $(cat "$TMP/err")"
printf 'arg a\narg b c\nenv K=V\nenv EMPTY=\nline one\nline two\n' | diff - "$TMP/out" >&2 ||
  fail "echo.wasm's output is not what it was given"
[[ ! -s $TMP/err ]] || fail "echo.wasm wrote to stderr: $(cat "$TMP/err")"

# The cache: one executable for the module; a second run compiles nothing
# (the file keeps its inode and time, no build folder appears), and runs
# far faster than the first did.
shopt -s nullglob
exes=("$CACHE"/[0-9a-f]*)
[[ ${#exes[@]} -eq 1 && -x ${exes[0]} ]] || fail "expected one cached executable, found: ${exes[*]}"
before=$(stat -c '%i %Y.%y' "${exes[0]}")
start=$(date +%s%N)
expect_exit 7 aot "$W/echo.wasm" </dev/null
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
[[ $(stat -c '%i %Y.%y' "${exes[0]}") == "$before" ]] || fail "the cached executable was rebuilt"
exes=("$CACHE"/[0-9a-f]* "$CACHE"/.build-*)
[[ ${#exes[@]} -eq 1 ]] || fail "a second run left more in the cache: ${exes[*]}"
((elapsed_ms < 1000)) || fail "a cached run took ${elapsed_ms} ms"
# The same bytes under another name and time reuse it; other bytes do not.
cp "$W/echo.wasm" "$TMP/copy.wasm"
touch -d '2001-01-01' "$TMP/copy.wasm"
expect_exit 7 aot "$TMP/copy.wasm" </dev/null
exes=("$CACHE"/[0-9a-f]*)
[[ ${#exes[@]} -eq 1 ]] || fail "an identical module was compiled again"
expect_exit 134 aot "$W/trap_unreachable.wasm"
exes=("$CACHE"/[0-9a-f]*)
[[ ${#exes[@]} -eq 2 ]] || fail "another module did not get its own executable"

# Traps: the reason on stderr, status 134, output before the trap kept.
expect_exit 134 aot "$W/trap_unreachable.wasm"
[[ $OUT == 'before the trap' ]] || fail "output before the trap lost: '$OUT'"
[[ $ERR == 'lumos: wasm trap: unreachable' ]] || fail "unreachable: '$ERR'"
expect_exit 134 aot "$W/trap_oob.wasm"
[[ $ERR == 'lumos: wasm trap: out of bounds memory access' ]] || fail "out of bounds: '$ERR'"
expect_exit 134 aot "$W/trap_recursion.wasm"
[[ $ERR == 'lumos: wasm trap: call stack exhausted' ]] || fail "recursion: '$ERR'"
expect_exit 134 aot "$W/trap_div0.wasm"
[[ $ERR == 'lumos: wasm trap: integer divide by zero' ]] || fail "division: '$ERR'"
expect_exit 0 aot "$W/trap_div0.wasm" -- divisor-is-one

# Modules that cannot run: each error names the file and says why.
printf 'not wasm at all' >"$TMP/corrupt.wasm"
expect_exit 1 aot "$TMP/corrupt.wasm"
contains "$ERR" "$TMP/corrupt.wasm"
contains "$ERR" "bad magic value"
printf '\0asm\1\0\0\0\1\100\0' >"$TMP/truncated.wasm"
expect_exit 1 aot "$TMP/truncated.wasm"
contains "$ERR" "$TMP/truncated.wasm"
contains "$ERR" "wasm2c"
expect_exit 1 aot "$TMP/missing.wasm"
contains "$ERR" "$TMP/missing.wasm"
contains "$ERR" "No such file"
expect_exit 1 aot "$W/no_start.wasm"
contains "$ERR" "no _start"
expect_exit 1 aot "$W/bad_import.wasm"
contains "$ERR" "env.host_magic"
expect_exit 1 aot "$W/bad_signature.wasm"
contains "$ERR" "wasi_snapshot_preview1.fd_write"
[[ -z $(ls -A "$CACHE" | grep '^\.build-' || true) ]] || fail "a failed compile left its build folder"

# lumos build names the cached executable ARTIFACTS/wasm-aot/F and lists
# both files with their real sizes.
"$LUMOS" build --artifacts "$ART" --function fibonacci --target wasm --runtimes wasm-aot --json \
  >"$TMP/build.json" || fail "lumos build failed"
exe=$ART/wasm-aot/fibonacci
[[ -x $exe ]] || fail "no $exe"
size=$(jq -r '.runtimes[] | select(.runtime == "wasm-aot") | .files[] |
  select(.kind == "aot-executable") | .size_bytes' "$TMP/build.json")
[[ $size == $(stat -c %s "$exe") ]] || fail "index says $size bytes, the file has $(stat -c %s "$exe")"
[[ $(stat -c %h "$exe") -ge 2 ]] || fail "$exe is not the cached executable (a hard link)"

# The function runs as an instance under wasm-aot.
expect_exit 0 "$LUMOS" invoke fibonacci --runtime wasm-aot --artifacts "$ART" --body '{"n":93}'
contains "$OUT" '12200160415121876738'
echo ok
