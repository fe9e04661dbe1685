# The cluster smoke test: where KUBECONFIG points at a cluster with Knative
# Serving, pushes one function's front image to LUMOS_KNATIVE_REGISTRY (a
# registry the cluster pulls from; LUMOS_KNATIVE_TLS_VERIFY=false for plain
# HTTP), deploys it (lumos deploy --apply) into a namespace of its own,
# waits for the Knative Service to be ready and sends it one request through
# the ingress (LUMOS_KNATIVE_INGRESS=HOST:PORT, with the Service's host name
# in Host; default: the Service's URL as it is), then deletes the
# namespace. Everywhere else it is skipped, saying why: it never looks for
# a cluster that the user did not name in KUBECONFIG.
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

skip() {
  echo "SKIP: $* (docs/knative.md says how to set up a cluster)"
  exit 0
}
[[ -n ${KUBECONFIG:-} ]] || skip "KUBECONFIG is not set: no cluster to run on"
[[ -r ${KUBECONFIG%%:*} ]] || skip "KUBECONFIG names ${KUBECONFIG%%:*}, which cannot be read"
command -v kubectl >/dev/null || skip "kubectl not found"
timeout 20 kubectl get crd services.serving.knative.dev >/dev/null 2>&1 ||
  skip "the cluster of KUBECONFIG has no Knative Serving (no services.serving.knative.dev CRD)"
[[ -n ${LUMOS_KNATIVE_REGISTRY:-} ]] ||
  skip "LUMOS_KNATIVE_REGISTRY is not set: name a registry the cluster pulls from"
front=$(dirname "$LUMOS")/libexec/lumos-front
[[ -x $front ]] || skip "no HTTP front program at $front yet"

NS=lumos-smoke-$$
cluster_cleanup() {
  timeout 120 kubectl delete namespace "$NS" --wait=false >/dev/null 2>&1 || true
  cleanup
}
trap cluster_cleanup EXIT

"$LUMOS" build --function fibonacci --quiet
expect_exit 0 "$LUMOS" push --registry "$LUMOS_KNATIVE_REGISTRY" \
  --tls-verify="${LUMOS_KNATIVE_TLS_VERIFY:-true}" --tag "smoke-$$" --functions fibonacci \
  --runtimes container --no-agent
expect_exit 0 "$LUMOS" deploy --platform knative --out "$TMP/k8s" --namespace "$NS" \
  --registry "$LUMOS_KNATIVE_REGISTRY" --tag "smoke-$$" --functions fibonacci --runtimes container \
  --apply
timeout 360 kubectl wait -n "$NS" ksvc/fibonacci-container --for=condition=Ready --timeout=300s ||
  fail "the Knative Service did not become ready: $(kubectl get ksvc -n "$NS" -o wide 2>&1)"
url=$(kubectl get ksvc -n "$NS" fibonacci-container -o jsonpath='{.status.url}')
[[ -n $url ]] || fail "no URL for the Service"
host=${url#*://}
if [[ -n ${LUMOS_KNATIVE_INGRESS:-} ]]; then
  target="http://$LUMOS_KNATIVE_INGRESS/"
else
  target="$url/"
fi
body=$(curl -fsS --max-time 120 -H "Host: $host" -H 'Content-Type: application/json' \
  -d '{"n": 20}' "$target") || fail "no answer from $target (Host: $host)"
contains "$body" "6765"
echo "knative cluster: ok ($url)"
