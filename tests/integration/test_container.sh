# The container runtime: a scratch OCI image built with umoci from the
# function's static executable, run under runc. Checks the image layout and
# its sizes against the files on disk, the cache, answers equal to native's
# on inline, file and Redis storage, two instances at once, a read-only
# shared rootfs, nothing left behind, and the errors for a missing binary,
# a missing data folder and a damaged image.
source "$(dirname "$0")/lib.sh"

if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: runc cannot run here: the container runtime needs root (namespaces, mounts, cgroups)"
  exit 0
fi
for tool in umoci runc; do
  command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] || fail "$tool not installed: run scripts/setup"
done

# Private artifacts, runc state and bundles: nothing shared with other runs.
ART=$TMP/art
export LUMOS_RUN_DIR=$TMP/run
for fn in fibonacci fuzzy-search mandelbrot-bitmap; do
  "$LUMOS" build --artifacts "$ART" --function "$fn" --target native --runtimes none --quiet
done
rt_json=$("$LUMOS" runtimes --json)
[[ $(jq -r '.[] | select(.name=="container") | .available' <<<"$rt_json") == true ]] ||
  fail "container not available: $(jq -r '.[] | select(.name=="container") | .why_not' <<<"$rt_json")"

# Prepare: the report's sizes are the files' sizes on disk.
expect_exit 0 "$LUMOS" build --artifacts "$ART" --function fibonacci --target native \
  --runtimes container --json
report=$OUT
LAYOUT=$ART/container/scratch/fibonacci
ROOTFS=$LAYOUT.bundle/rootfs
sum() { find "$@" -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }
size_of() { jq -r ".runtimes[] | select(.runtime==\"container\") | .files[] | select(.kind==\"$1\") | .$2" <<<"$report"; }
[[ $(size_of image-compressed path) == "$LAYOUT/blobs" ]] || fail "compressed path: $(size_of image-compressed path)"
[[ $(size_of image-uncompressed path) == "$ROOTFS" ]] || fail "uncompressed path"
blobs=$(sum "$LAYOUT/blobs" -type f)
files=$(sum "$ROOTFS" \( -type f -o -type l \))
[[ $(size_of image-compressed size_bytes) == "$blobs" ]] ||
  fail "compressed size $(size_of image-compressed size_bytes) != blobs on disk $blobs"
[[ $(size_of image-uncompressed size_bytes) == "$files" ]] ||
  fail "uncompressed size $(size_of image-uncompressed size_bytes) != rootfs files $files"
# Scratch holds the executable and nothing else (an empty /data, mount points).
[[ $files == $(stat -c %s "$ART/native/fibonacci") ]] || fail "scratch rootfs holds more than /fn"
[[ $(cd "$ROOTFS" && find . -mindepth 1 | sort | tr '\n' ' ') == "./data ./dev ./fn ./proc ./sys " ]] ||
  fail "scratch rootfs: $(cd "$ROOTFS" && find . | tr '\n' ' ')"
cmp "$ROOTFS/fn" "$ART/native/fibonacci" || fail "/fn differs from the native executable"

# The layout is a valid OCI image: umoci reads it, the manifest names gzip
# layers whose sizes and digests match the blobs, the config runs /fn.
expect_exit 0 umoci ls --layout "$LAYOUT"
[[ $OUT == fibonacci ]] || fail "umoci ls: $OUT"
expect_exit 0 umoci stat --image "$LAYOUT:fibonacci" --json
[[ $(jq -r '.history | length' <<<"$OUT") -ge 1 ]] || fail "umoci stat: no history"
[[ $(jq -r .imageLayoutVersion "$LAYOUT/oci-layout") == 1.0.0 ]] || fail "oci-layout"
manifest=$(jq -r '.manifests[0].digest' "$LAYOUT/index.json")
mf=$LAYOUT/blobs/sha256/${manifest#sha256:}
[[ $(sha256sum <"$mf" | cut -d' ' -f1) == "${manifest#sha256:}" ]] || fail "manifest digest"
[[ $(jq -r '.layers | length' "$mf") == 1 ]] || fail "scratch image has one layer"
while read -r media digest size; do
  [[ $media == application/vnd.oci.image.layer.v1.tar+gzip ]] || fail "layer media type $media"
  blob=$LAYOUT/blobs/sha256/${digest#sha256:}
  [[ $(stat -c %s "$blob") == "$size" ]] || fail "layer size"
  [[ $(sha256sum <"$blob" | cut -d' ' -f1) == "${digest#sha256:}" ]] || fail "layer digest"
  gzip -t <"$blob" || fail "layer is not gzip"
  tar -tzf "$blob" | grep -qx 'fn' || tar -tzf "$blob" | grep -qx './fn' || fail "layer lacks fn"
done < <(jq -r '.layers[] | "\(.mediaType) \(.digest) \(.size)"' "$mf")
config=$LAYOUT/blobs/sha256/$(jq -r '.config.digest' "$mf" | cut -d: -f2)
[[ $(jq -c .config.Entrypoint "$config") == '["/fn"]' ]] || fail "entrypoint: $(jq -c .config.Entrypoint "$config")"
[[ $(jq -r .config.WorkingDir "$config") == / ]] || fail "working dir"

# Cached: an unchanged executable reuses the image; a changed one rebuilds it.
inputs=$(jq -r .inputs "$LAYOUT.json")
stamp=$(stat -c %Y.%y "$mf")
"$LUMOS" build --artifacts "$ART" --function fibonacci --target native --runtimes container --quiet
[[ -f $mf && $(stat -c %Y.%y "$mf") == "$stamp" ]] || fail "an unchanged executable rebuilt the image"

# Answers: the same as native's, with LUMOS_RUNTIME=container inside.
same() { # runtime-normalised comparison of two invokes' stdout
  local a b
  a=$(sed 's/"runtime":"[^"]*"/"runtime":"RT"/' <<<"$1")
  b=$(sed 's/"runtime":"[^"]*"/"runtime":"RT"/' <<<"$2")
  [[ $a == "$b" ]] || fail "answers differ: native $a, container $b"
}
inv() { "$LUMOS" invoke --artifacts "$ART" "$@"; }
find "$ROOTFS" -printf '%p %s %m %T@\n' | sort >"$TMP/rootfs.before"
expect_exit 0 inv fibonacci --runtime native --body '{"n":93}'
fib_native=$OUT
expect_exit 0 inv fibonacci --runtime container --body '{"n":93}'
contains "$OUT" '"runtime":"container"'
contains "$OUT" '12200160415121876738'
same "$fib_native" "$OUT"

# File storage: the data folder is bind-mounted read-write at /data.
"$LUMOS" data gen --seed 5 --groups xs,s --out "$TMP/data" --quiet
body='{"term":"serverless","input_key":"fuzzy-search/s.txt","storage":"file"}'
expect_exit 0 inv fuzzy-search --runtime native --storage-dir "$TMP/data" --body "$body"
native=$OUT
expect_exit 0 inv fuzzy-search --runtime container --storage-dir "$TMP/data" --body "$body"
same "$native" "$OUT"
body='{"size":64,"output_key":"out/m.pbm","storage":"file"}'
expect_exit 0 inv mandelbrot-bitmap --runtime native --storage-dir "$TMP/data" --body "$body"
mv "$TMP/data/out/m.pbm" "$TMP/native.pbm"
expect_exit 0 inv mandelbrot-bitmap --runtime container --storage-dir "$TMP/data" --body "$body"
cmp "$TMP/native.pbm" "$TMP/data/out/m.pbm" || fail "file written through /data differs"
# No data folder: /data is the image's empty, read-only folder.
body='{"term":"serverless","input_key":"fuzzy-search/s.txt","storage":"file"}'
expect_exit 1 inv fuzzy-search --runtime container --body "$body"
contains "$OUT" "no object 'fuzzy-search/s.txt' in file storage"
expect_exit 1 inv fuzzy-search --runtime container --storage-dir "$TMP/nonexistent" --body "$body"
contains "$ERR" "nonexistent"

# Redis storage goes through the channel: the host serves it.
start_redis
"$LUMOS" data load "$TMP/data" --redis "$REDIS" >/dev/null
body='{"term":"serverless","input_key":"fuzzy-search/s.txt"}'
expect_exit 0 inv fuzzy-search --runtime native --redis "$REDIS" --body "$body"
native=$OUT
expect_exit 0 inv fuzzy-search --runtime container --redis "$REDIS" --body "$body"
same "$native" "$OUT"

# Two instances at once, each with its own cgroup and container (they
# overlap: both bundles are seen at one moment).
expect_exit 0 inv mandelbrot-bitmap --runtime native --body '{"size":2500,"storage":"inline"}'
mandel=$OUT
pids=()
for i in 1 2; do
  "$LUMOS" invoke --artifacts "$ART" mandelbrot-bitmap --runtime container \
    --body '{"size":2500,"storage":"inline"}' >"$TMP/par$i.out" 2>"$TMP/par$i.err" &
  pids+=($!)
done
most=0
while kill -0 "${pids[0]}" 2>/dev/null || kill -0 "${pids[1]}" 2>/dev/null; do
  n=$(ls "$TMP/run/bundles" 2>/dev/null | wc -l)
  ((n > most)) && most=$n
  sleep 0.01
done
for i in 1 2; do
  wait "${pids[$((i - 1))]}" || fail "parallel instance $i: $(cat "$TMP/par$i.err")"
  same "$mandel" "$(cat "$TMP/par$i.out")"
  ls -d /sys/fs/cgroup/*/lumos/"${pids[$((i - 1))]}"-* 2>/dev/null && fail "cgroup of instance $i left"
done
((most == 2)) || fail "the two instances did not run at once (at most $most seen)"

# Nothing is left: no runc state, no instance bundle, and the shared rootfs
# is as it was.
[[ -z $(ls -A "$TMP/run/runc") ]] || fail "runc state left: $(ls "$TMP/run/runc")"
[[ -z $(ls -A "$TMP/run/bundles") ]] || fail "bundles left: $(ls "$TMP/run/bundles")"
find "$ROOTFS" -printf '%p %s %m %T@\n' | sort | diff "$TMP/rootfs.before" - ||
  fail "an instance changed the shared rootfs"

# A lumos killed mid-request leaves its container; the next start removes
# it (state, bundle, cgroup, process).
"$LUMOS" build --artifacts "$ART" --function faulty --target native --runtimes none --quiet
"$LUMOS" invoke --artifacts "$ART" faulty --runtime container --timeout 20000 \
  --body '{"mode":"hang"}' >/dev/null 2>&1 &
killed=$!
for _ in $(seq 100); do [[ -n $(ls -A "$TMP/run/runc") ]] && break; sleep 0.05; done
sleep 0.2
{
  kill -9 "$killed"
  wait "$killed"
} 2>/dev/null || true
[[ -d $TMP/run/bundles/lumos-$killed-1 ]] || fail "the killed lumos left no container to sweep"
expect_exit 0 inv fibonacci --runtime container --body '{"n":4}'
[[ -z $(ls -A "$TMP/run/runc") && -z $(ls -A "$TMP/run/bundles") ]] || fail "stale container not swept"
ls -d /sys/fs/cgroup/*/lumos/"$killed"-* 2>/dev/null && fail "stale cgroup not removed"

# Errors: a missing executable names `lumos build`; a damaged image says
# how to rebuild it, and rebuilding works.
mkdir -p "$TMP/empty"
expect_exit 1 "$LUMOS" invoke fibonacci --runtime container --artifacts "$TMP/empty" --body '{"n":1}'
contains "$ERR" "run \`lumos build\`"
echo '{"ociVersion":' >"$LAYOUT.bundle/config.json"
expect_exit 1 inv fibonacci --runtime container --body '{"n":1}'
contains "$ERR" "config.json"
contains "$ERR" "rebuild"
rm -rf "$LAYOUT.bundle"
expect_exit 0 inv fibonacci --runtime container --body '{"n":1}'
[[ $(jq -r .inputs "$LAYOUT.json") == "$inputs" ]] || fail "rebuilt image has other inputs"
# A changed executable is noticed (by its content, not its name).
printf '\0' >>"$ART/native/fibonacci"
expect_exit 0 inv fibonacci --runtime container --body '{"n":2}'
[[ $(jq -r .inputs "$LAYOUT.json") != "$inputs" ]] || fail "a changed executable reused the old image"
cmp "$ROOTFS/fn" "$ART/native/fibonacci" || fail "rebuilt /fn is not the new executable"

# Kwasm: the interpreter helper and the module, or the AoT executable
# alone, in a scratch image.
avail() { [[ $(jq -r ".[] | select(.name==\"$1\") | .available" <<<"$rt_json") == true ]]; }
if avail container+wasm-interp || avail container+wasm-interp-wabt || avail container+wasm-aot; then
  "$LUMOS" build --artifacts "$ART" --function fibonacci --target wasm --runtimes none --quiet
fi
if avail container+wasm-interp-wabt; then
  expect_exit 0 inv fibonacci --runtime container+wasm-interp-wabt --body '{"n":93}'
  contains "$OUT" '"runtime":"container+wasm-interp-wabt"'
  same "$fib_native" "$OUT"
  r=$ART/container/wasm-interp-wabt/fibonacci.bundle/rootfs
  [[ -x $r/lumos-wasm-interp-wabt ]] || fail "no interpreter in the image"
  cmp "$r/fibonacci.wasm" "$ART/wasm/fibonacci.wasm" || fail "no module in the image"
fi
if avail container+wasm-interp; then
  expect_exit 0 inv fibonacci --runtime container+wasm-interp --body '{"n":93}'
  contains "$OUT" '"runtime":"container+wasm-interp"'
  same "$fib_native" "$OUT"
  r=$ART/container/wasm-interp/fibonacci.bundle/rootfs
  [[ -x $r/lumos-interp ]] || fail "no interpreter in the image"
  cmp "$r/fibonacci.wasm" "$ART/wasm/fibonacci.wasm" || fail "no module in the image"
  helper=${LUMOS_LIBEXEC:-$(dirname "$(readlink -f "$LUMOS")")/libexec}/lumos-interp
  cmp "$r/lumos-interp" "$helper" || fail "the image's lumos-interp is not the build's"
  # Static outside the sanitizer build: then the image holds the helper and the module alone.
  if ! ldd "$helper" >/dev/null 2>&1; then
    [[ $(cd "$r" && find . -mindepth 1 | sort | tr '\n' ' ') == "./data ./dev ./fibonacci.wasm ./lumos-interp ./proc ./sys " ]] ||
      fail "container+wasm-interp rootfs: $(cd "$r" && find . | tr '\n' ' ')"
  fi
fi
if avail container+wasm-aot; then
  expect_exit 0 inv fibonacci --runtime container+wasm-aot --body '{"n":93}'
  contains "$OUT" '"runtime":"container+wasm-aot"'
  same "$fib_native" "$OUT"
  r=$ART/container/wasm-aot/fibonacci.bundle/rootfs
  [[ -x $r/fn && ! -e $r/fibonacci.wasm ]] || fail "the AoT image holds the executable alone"
fi
[[ -z $(ls -A "$TMP/run/runc") && -z $(ls -A "$TMP/run/bundles") ]] || fail "Kwasm instances left state"
echo "ok: container images, sizes, answers, storage, concurrency, cleanup and errors"
