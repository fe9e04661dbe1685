# lumos push: the cluster images (the Wasm module image, an HTTP front image)
# built with umoci, checked with skopeo in the layout (platform wasi/wasm,
# one layer holding /module.wasm, the compat-smart annotation and label),
# then copied to a real registry (Debian's docker-registry, the
# distribution registry) on 127.0.0.1 at a free port with its own config
# and storage, and read back from there with skopeo: manifest, digest,
# annotations, layers. Also the errors (no --registry, a bad --tls-verify,
# no registry listening) and the skip when the front program is missing.
source "$(dirname "$0")/lib.sh"

if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: umoci unpacks images as root here (the container images' builder)"
  exit 0
fi
for tool in umoci skopeo docker-registry jq; do
  command -v "$tool" >/dev/null || fail "$tool not installed: run scripts/setup"
done

ART=$TMP/art
"$LUMOS" build --artifacts "$ART" --function fibonacci --runtimes none --quiet
"$LUMOS" build --artifacts "$ART" --function noop --target native --runtimes none --quiet

expect_exit 0 "$LUMOS" push --help
expect_exit 2 "$LUMOS" push --functions fibonacci
contains "$ERR" "--registry REG is required"
expect_exit 2 "$LUMOS" push --registry 127.0.0.1:1 --tls-verify=maybe
contains "$ERR" "--tls-verify takes true or false"

# Build only: the Wasm image in the layout the Wasm shims run.
expect_exit 0 "$LUMOS" push --build-only --artifacts "$ART" --functions fibonacci \
  --runtimes wasmedge,container --no-agent --front "$TMP/no-front"
contains "$OUT" "built  fibonacci"
contains "$ERR" "skipped front-native: no HTTP front program at $TMP/no-front"
L=$ART/cluster/wasm/fibonacci
skopeo inspect "oci:$L:fibonacci" >"$TMP/inspect.json"
[[ $(jq -r .Os "$TMP/inspect.json") == wasi && $(jq -r .Architecture "$TMP/inspect.json") == wasm ]] ||
  fail "platform: $(cat "$TMP/inspect.json")"
[[ $(jq -r '.Labels["module.wasm.image/variant"]' "$TMP/inspect.json") == compat-smart ]] || fail "label"
skopeo inspect --raw "oci:$L:fibonacci" >"$TMP/manifest.json"
[[ $(jq -r '.annotations["module.wasm.image/variant"]' "$TMP/manifest.json") == compat-smart ]] ||
  fail "annotation: $(cat "$TMP/manifest.json")"
[[ $(jq -r '.layers | length' "$TMP/manifest.json") == 1 ]] || fail "not one layer"
[[ $(skopeo inspect --config "oci:$L:fibonacci" | jq -c .config.Entrypoint) == '["/module.wasm"]' ]] ||
  fail "entrypoint"
layer=$(jq -r '.layers[0].digest' "$TMP/manifest.json" | cut -d: -f2)
[[ $(tar -tzf "$L/blobs/sha256/$layer" | grep -vxE '\./?' | tr '\n' ' ') == "module.wasm " ]] ||
  fail "layer holds: $(tar -tzf "$L/blobs/sha256/$layer" | tr '\n' ' ')"
tar -xzOf "$L/blobs/sha256/$layer" module.wasm | cmp -s - "$ART/wasm/fibonacci.wasm" ||
  fail "the layer's module is not the function's"

# An HTTP front image, with a stand-in program (the noop function) as the front.
expect_exit 0 "$LUMOS" push --build-only --artifacts "$ART" --functions fibonacci \
  --runtimes container --no-agent --front "$ART/native/noop"
F=$ART/cluster/front-native/fibonacci
[[ $(skopeo inspect --config "oci:$F:fibonacci" | jq -c .config.Entrypoint) == \
  '["/lumos-front","--function","fibonacci","--runtime","native"]' ]] || fail "front entrypoint"
flayer=$(skopeo inspect --raw "oci:$F:fibonacci" | jq -r '.layers[0].digest' | cut -d: -f2)
tar -tzf "$F/blobs/sha256/$flayer" >"$TMP/front.txt"
grep -qx 'artifacts/native/fibonacci' "$TMP/front.txt" && grep -qx 'lumos-front' "$TMP/front.txt" ||
  fail "front layer: $(tr '\n' ' ' <"$TMP/front.txt")"

# A registry on loopback, its own config and storage.
REG_PID=
stop_registry() {
  if [[ -n $REG_PID ]]; then kill "$REG_PID" 2>/dev/null || true; wait "$REG_PID" 2>/dev/null || true; fi
  REG_PID=
  return 0
}
trap 'stop_registry; cleanup' EXIT
for _ in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 20000))
  cat >"$TMP/registry.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $TMP/registry
http:
  addr: 127.0.0.1:$port
YAML
  docker-registry serve "$TMP/registry.yml" >"$TMP/registry.log" 2>&1 &
  REG_PID=$!
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break 2
    kill -0 "$REG_PID" 2>/dev/null || break
    sleep 0.05
  done
  stop_registry
done
[[ -n $REG_PID ]] || fail "could not start docker-registry: $(tail -5 "$TMP/registry.log")"
REG=127.0.0.1:$port

expect_exit 0 "$LUMOS" push --registry "$REG" --tls-verify=false --tag t1 --artifacts "$ART" \
  --functions fibonacci --runtimes wasmedge,crun-wasm,container --front "$ART/native/noop" \
  --no-agent --json
[[ $(jq -r '[.[] | select(.outcome == "pushed")] | length' <<<"$OUT") == 2 ]] ||
  fail "two images (wasm shared by wasmedge and crun-wasm, front-native): $OUT"
ref=$(jq -r '.[] | select(.image == "wasm") | .ref' <<<"$OUT")
[[ $ref == "$REG/lumos-fibonacci-wasm:t1" ]] || fail "ref $ref"
skopeo inspect --tls-verify=false "docker://$ref" >"$TMP/remote.json"
skopeo inspect --raw --tls-verify=false "docker://$ref" >"$TMP/remote-manifest.json"
cmp -s "$TMP/manifest.json" "$TMP/remote-manifest.json" || fail "the registry's manifest differs"
[[ $(jq -r .Digest "$TMP/remote.json") == "$(jq -r .manifests[0].digest "$L/index.json")" ]] ||
  fail "digest not preserved"
[[ $(jq -r '.Labels["module.wasm.image/variant"]' "$TMP/remote.json") == compat-smart &&
  $(jq -r .Os "$TMP/remote.json") == wasi ]] || fail "remote config: $(cat "$TMP/remote.json")"
[[ $(jq -r '.annotations["module.wasm.image/variant"]' "$TMP/remote-manifest.json") == compat-smart ]] ||
  fail "remote annotation"
skopeo inspect --tls-verify=false "docker://$REG/lumos-fibonacci-front-native:t1" >/dev/null ||
  fail "front image not in the registry"
# Pushing again is fine (the blobs are there).
expect_exit 0 "$LUMOS" push --registry "$REG" --tls-verify=false --tag t1 --artifacts "$ART" \
  --functions fibonacci --runtimes wasmedge --no-agent
contains "$OUT" "pushed fibonacci"
# TLS verified against a plain-HTTP registry fails, and says where.
expect_exit 1 "$LUMOS" push --registry "$REG" --artifacts "$ART" --functions fibonacci \
  --runtimes wasmedge --no-agent
contains "$ERR" "push to docker://$REG/lumos-fibonacci-wasm:latest"
stop_registry
expect_exit 1 "$LUMOS" push --registry "$REG" --tls-verify=false --artifacts "$ART" \
  --functions fibonacci --runtimes wasmedge --no-agent
contains "$ERR" "skopeo copy failed"
echo "push: ok"
