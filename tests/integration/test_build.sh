# lumos build: the index lists every artifact with its real size on disk
# (a folder's size is the sum of its files and symlinks, each hard-linked file
# once, as du counts), and up-to-date
# artifacts are not rebuilt.
source "$(dirname "$0")/lib.sh"

expect_exit 0 "$LUMOS" build --json
artifacts=$(echo "$OUT" | jq -r .artifacts)
[[ -f $artifacts/index.json ]] || fail "no index at $artifacts/index.json"
cmp -s <(echo "$OUT" | jq -S .) <(jq -S . "$artifacts/index.json") || fail "--json and index.json differ"
# Every target artifact of every catalog function is there.
n_fn=$("$LUMOS" functions --json | jq length)
[[ $(jq '[.targets[] | select(.target=="native")] | length' "$artifacts/index.json") == "$n_fn" ]] ||
  fail "not every function has a native artifact"
[[ $(jq '[.targets[] | select(.target=="wasm")] | length' "$artifacts/index.json") == "$n_fn" ]] ||
  fail "not every function has a wasm artifact"
size_of() {
  if [[ -d $1 ]]; then
    find "$1" \( -type f -o -type l \) -printf '%i %s\n' | sort -u | awk '{s+=$2} END {print s+0}'
  else
    stat -c %s "$1"
  fi
}
checked=0
while read -r path bytes; do
  [[ -e $path ]] || fail "index names $path, which does not exist"
  real=$(size_of "$path")
  [[ $real == "$bytes" ]] || fail "$path: index says $bytes bytes, disk says $real"
  checked=$((checked + 1))
done < <(jq -r '(.targets[] | "\(.path) \(.size_bytes)"), (.runtimes[].files[] | "\(.path) \(.size_bytes)")' "$artifacts/index.json")
# Wasm modules are stripped and small; native executables are static.
for w in $(jq -r '.targets[] | select(.target=="wasm") | .path' "$artifacts/index.json"); do
  head -c 4 "$w" | od -An -tx1 | grep -q "00 61 73 6d" || fail "$w is not a wasm module"
done
file -b "$(jq -r '.targets[] | select(.target=="native") | .path' "$artifacts/index.json" | head -1)" |
  grep -q "statically linked" || fail "native artifacts are not static"
# A second build rebuilds nothing.
expect_exit 0 "$LUMOS" build --json
[[ $(echo "$OUT" | jq '[.targets[] | select(.rebuilt)] | length') == 0 ]] || fail "up-to-date artifacts were rebuilt"
expect_exit 2 "$LUMOS" build --runtimes nosuch
contains "$ERR" "unknown runtime"
echo "ok: $checked artifact files match their sizes"
