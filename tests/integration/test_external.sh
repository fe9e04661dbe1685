# External runtimes: the built-in templates are listed (and unavailable
# here unless installed), and a user's own runtime from a config file runs
# the functions without recompiling Lumos. The user runtime here is node's
# WASI through Lumos' own host script, so the test is real.
source "$(dirname "$0")/lib.sh"

expect_exit 0 "$LUMOS" runtimes --json
for rt in wasmtime wasmedge wasmedge-aot iwasm iwasm-aot wasmer wasm3; do
  [[ $(echo "$OUT" | jq -r ".[] | select(.name==\"$rt\") | .name") == "$rt" ]] || fail "$rt not listed"
  if ! command -v "${rt%-aot}" >/dev/null; then
    [[ $(echo "$OUT" | jq -r ".[] | select(.name==\"$rt\") | .available") == false ]] || fail "$rt available?"
    echo "$OUT" | jq -r ".[] | select(.name==\"$rt\") | .why_not" | grep -q "not found on PATH" ||
      fail "$rt: no reason given"
  fi
done

artifacts=$(cd "$(dirname "$0")/../.." && pwd)/build/artifacts
host=$artifacts/wasm/node_wasi_host.mjs
# Make sure the host script is there (any wasm-jit start writes it).
"$LUMOS" invoke fibonacci --runtime wasm-jit --body '{"n":1}' >/dev/null 2>&1
[[ -f $host ]] || fail "no node host script at $host"
cat >"$TMP/runtimes.json" <<JSON
{"runtimes": [
  {"name": "my-node", "description": "node through a template", "binary": "node",
   "version": ["node", "--version"],
   "command": ["node", "--no-warnings", "$host", "{dirs}", "{envs}", "{module}", "{args}"],
   "dir": ["--dir", "{host}::{guest}"], "env": ["--env", "{key}={value}"]},
  {"name": "my-node-compiled", "binary": "node", "needs": ["cp"],
   "compile": ["cp", "{module}", "{out}"], "compiled_ext": ".copy.wasm",
   "command": ["node", "--no-warnings", "$host", "{dirs}", "{envs}", "{module}", "{args}"],
   "dir": ["--dir", "{host}::{guest}"], "env": ["--env", "{key}={value}"]}
]}
JSON
export LUMOS_RUNTIMES=$TMP/runtimes.json
expect_exit 0 "$LUMOS" runtimes --json
[[ $(echo "$OUT" | jq -r '.[] | select(.name=="my-node") | .available') == true ]] || fail "my-node"
expect_exit 0 "$LUMOS" invoke fibonacci --runtime my-node --body '{"n":93}'
contains "$OUT" '"runtime":"my-node"'
contains "$OUT" '12200160415121876738'
# File storage through the template's dir mapping.
mkdir -p "$TMP/data"
expect_exit 0 "$LUMOS" invoke audio-generation --runtime my-node --storage-dir "$TMP/data" \
  --body '{"size_kb":2,"output_key":"a.wav","storage":"file"}'
[[ $(stat -c %s "$TMP/data/a.wav") == 2048 ]] || fail "no file written through my-node"
# The compile step runs once, into the cache.
expect_exit 0 "$LUMOS" invoke fibonacci --runtime my-node-compiled --body '{"n":10}'
contains "$OUT" '"value":"55"'
ls "$artifacts/my-node-compiled/cache/"*.copy.wasm >/dev/null 2>&1 || fail "no compiled module cached"
# exec passes stdio and the exit status through an external runtime too.
cat >"$TMP/t.c" <<'C'
#include <stdio.h>
int main(int argc, char **argv) { printf("%d %s\n", argc, argv[argc - 1]); return 5; }
C
clang --target=wasm32-wasi -O2 -o "$TMP/t.wasm" "$TMP/t.c"
expect_exit 5 "$LUMOS" exec --runtime my-node "$TMP/t.wasm" -- last
[[ $OUT == "2 last" ]] || fail "exec output: $OUT"

# Bad config files are named, with what is wrong.
echo '{"runtimes": [{"name": "x"}]}' >"$TMP/bad.json"
LUMOS_RUNTIMES=$TMP/bad.json expect_exit 0 "$LUMOS" runtimes
contains "$ERR" 'runtime x: "command" must be a non-empty array'
echo '{"runtimes": [{"name": "native", "command": ["{module}"]}]}' >"$TMP/bad.json"
LUMOS_RUNTIMES=$TMP/bad.json expect_exit 0 "$LUMOS" runtimes
contains "$ERR" "native is a built-in runtime name"
echo '{"runtimes": [' >"$TMP/bad.json"
LUMOS_RUNTIMES=$TMP/bad.json expect_exit 0 "$LUMOS" runtimes
contains "$ERR" "bad.json"
echo ok
