# test_same_answers.sh on every available container runtime (container,
# container-crun, container+wasm-*; not container-slim, whose debian-slim
# base is the same executable on a bigger image and takes a debootstrap):
# the same answers and objects as native, byte for byte.
LUMOS=${LUMOS:?set LUMOS to the lumos binary under test}

rts=$("$LUMOS" runtimes --json |
  jq -r '.[] | select(.available and (.name | startswith("container")) and .name != "container-slim") | .name' |
  tr '\n' ' ')
if [[ -z ${rts// /} ]]; then
  echo "SKIP: no container runtime is available here (lumos runtimes says why)"
  exit 0
fi
LUMOS_RUNTIMES_UNDER_TEST=$rts exec bash "$(dirname "$0")/test_same_answers.sh"
