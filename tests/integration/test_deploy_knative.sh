# lumos deploy --platform knative: the manifests of a --config byte for
# byte against the golden files (tests/data/knative/expected: the exact
# annotations of tests/data/knative/config.json), the same bytes twice,
# every document valid against Knative's and Kubernetes' published schemas
# (tests/knative/validate: the npm kubernetes-models packages) and broken
# ones refused, the functions x runtimes form, and the errors: bad options,
# a bad config, a runtime with no RuntimeClass, --apply without kubectl or
# a kubeconfig.
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=$ROOT/tests/data/knative
VALIDATE=$ROOT/tests/knative/validate

expect_exit 0 "$LUMOS" deploy --help
contains "$OUT" "--platform knative"
expect_exit 2 "$LUMOS" deploy --out "$TMP/x"
contains "$ERR" "--platform is required"
expect_exit 2 "$LUMOS" deploy --platform openfaas --out "$TMP/x"
contains "$ERR" "unknown platform 'openfaas'"
expect_exit 2 "$LUMOS" deploy --platform knative
contains "$ERR" "--out DIR is required"
expect_exit 2 "$LUMOS" deploy --platform knative --out "$TMP/x" --namespace Bad_NS
contains "$ERR" "not a DNS label"

# The golden files.
args=(deploy --platform knative --config "$DATA/config.json" --registry 127.0.0.1:5000 --tag test
  --cpu-limit 1)
expect_exit 0 "$LUMOS" "${args[@]}" --out "$TMP/a"
contains "$OUT" "4 services, 11 files"
contains "$ERR" "stable_window_ms 5000 is outside Knative's 6 s to 1 h"
diff -r "$DATA/expected" "$TMP/a" >"$TMP/diff" || fail "not the golden files: $(head -40 "$TMP/diff")"
expect_exit 0 "$LUMOS" "${args[@]}" --out "$TMP/b" --json
[[ $(jq -r '.files | length' <<<"$OUT") == 11 && $(jq -r .services <<<"$OUT") == 4 ]] || fail "json: $OUT"
diff -r "$TMP/a" "$TMP/b" >/dev/null || fail "two runs wrote different bytes"
grep -q 'autoscaling.knative.dev/target: "0.7"' "$TMP/a/50-service-fibonacci-container-wasm-aot.yaml" ||
  fail "target 0.7 not carried"
grep -q 'kubernetes.podspec-runtimeclassname: "enabled"' "$TMP/a/01-config-features.yaml" ||
  fail "config-features"

# Every document against the published schemas.
rc=0
"$VALIDATE" "$TMP"/a/*.yaml >"$TMP/valid" 2>&1 || rc=$?
[[ $rc -eq 0 ]] || fail "validate exited $rc: $(tail -20 "$TMP/valid")"
contains "$(cat "$TMP/valid")" "15 documents checked, 0 failed"
# ... and the validator refuses what Knative or Kubernetes would.
mkdir "$TMP/bad"
svc=$TMP/a/50-service-fibonacci-container-wasm-aot.yaml
sed 's/containerConcurrency: 1/containerConcurrency: "one"/' "$svc" >"$TMP/bad/cc.yaml"
sed 's|window: "60s"|window: "5s"|' "$svc" >"$TMP/bad/window.yaml"
sed 's|autoscaling.knative.dev/max-scale|autoscaling.knative.dev/maxscale|' "$svc" >"$TMP/bad/key.yaml"
sed 's|handler: "runc"|handler: 7|' "$TMP/a/10-runtimeclasses.yaml" >"$TMP/bad/rc.yaml"
sed 's|path: "/sys/fs/cgroup"|path: 1|' "$TMP/a/30-agent.yaml" >"$TMP/bad/agent.yaml"
for f in "$TMP"/bad/*.yaml; do
  cmp -s "$f" "$TMP/a/$(basename "$f")" && fail "$f: the edit did not apply"
  rc=0
  "$VALIDATE" "$f" >"$TMP/invalid" 2>&1 || rc=$?
  [[ $rc -eq 1 ]] || fail "$(basename "$f"): validate exited $rc, expected 1: $(cat "$TMP/invalid")"
  contains "$(cat "$TMP/invalid")" "FAIL"
done

# functions x runtimes with the built-in defaults; a second run into the
# same folder replaces the service files.
expect_exit 0 "$LUMOS" deploy --platform knative --out "$TMP/c" --functions fibonacci,noop
contains "$OUT" "10 services"
expect_exit 0 "$LUMOS" deploy --platform knative --out "$TMP/c" --functions noop --runtimes wasmtime
contains "$OUT" "1 services"
[[ $(ls "$TMP"/c/50-service-*.yaml) == "$TMP/c/50-service-noop-wasmtime.yaml" ]] ||
  fail "old service files left: $(ls "$TMP/c")"
grep -q 'runtimeClassName: "wasmtime"' "$TMP/c/50-service-noop-wasmtime.yaml" || fail "wasmtime class"
grep -q '"127.0.0.1:5000' "$TMP/c/50-service-noop-wasmtime.yaml" && fail "default registry"
grep -q 'image: "localhost:32000/lumos-noop-wasm:latest"' "$TMP/c/50-service-noop-wasmtime.yaml" ||
  fail "image reference: $(grep image: "$TMP/c/50-service-noop-wasmtime.yaml")"

# The table's override file.
cat >"$TMP/classes.json" <<'JSON'
{"classes": [{"runtime": "wasmtime", "runtime_class": "kwasm-wasmtime", "handler": "wasmtime-v1"},
             {"runtime": "wasm3", "runtime_class": "runc", "handler": "runc", "image": "front-wasm-interp"}]}
JSON
expect_exit 0 "$LUMOS" deploy --platform knative --out "$TMP/d" --functions noop \
  --runtimes wasmtime,wasm3 --classes "$TMP/classes.json"
grep -q 'runtimeClassName: "kwasm-wasmtime"' "$TMP/d/50-service-noop-wasmtime.yaml" || fail "override"
grep -q 'handler: "wasmtime-v1"' "$TMP/d/10-runtimeclasses.yaml" || fail "override handler"
echo '{"classes": [{"runtime": "wasmtime", "imag": "wasm"}]}' >"$TMP/bad-classes.json"
expect_exit 1 "$LUMOS" deploy --platform knative --out "$TMP/e" --classes "$TMP/bad-classes.json"
contains "$ERR" "classes[0].imag: unknown field"
echo '{"classes": [{"runtime": "wasmtime", "image": "docker"}]}' >"$TMP/bad-classes.json"
expect_exit 1 "$LUMOS" deploy --platform knative --out "$TMP/e" --classes "$TMP/bad-classes.json"
contains "$ERR" "'docker' is not an image Lumos builds"

# Errors.
expect_exit 1 "$LUMOS" deploy --platform knative --out "$TMP/e" --functions noop --runtimes wasm3
contains "$ERR" "runtime wasm3 has no place on a cluster"
expect_exit 1 "$LUMOS" deploy --platform knative --out "$TMP/e" --functions nope
contains "$ERR" "unknown function 'nope'"
echo '{"services": [{"name": "fibonacci@container", "max_scal": 3}]}' >"$TMP/bad.json"
expect_exit 1 "$LUMOS" deploy --platform knative --out "$TMP/e" --config "$TMP/bad.json"
contains "$ERR" "services[0].max_scal: unknown field"
expect_exit 1 "$LUMOS" deploy --platform knative --out "$TMP/e" --functions noop --registry http://r:5000
contains "$ERR" "no scheme"
# --apply: no kubeconfig, then no kubectl.
expect_exit 1 env -u KUBECONFIG HOME="$TMP/home" "$LUMOS" deploy --platform knative --out "$TMP/f" \
  --functions noop --apply
contains "$ERR" "KUBECONFIG is not set"
mkdir -p "$TMP/bin"
expect_exit 1 env PATH="$TMP/bin" KUBECONFIG="$TMP/kc" "$LUMOS" deploy --platform knative \
  --out "$TMP/f" --functions noop --apply
contains "$ERR" "kubectl not found"
echo "deploy knative: ok"
