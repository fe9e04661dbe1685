# lumos data gen: the same seed gives the same bytes; planted terms are where
# the manifest says; data load puts every object into Redis and a folder.
source "$(dirname "$0")/lib.sh"

expect_exit 0 "$LUMOS" data gen --seed 7 --groups xs,s,1 --out "$TMP/a" --quiet
expect_exit 0 "$LUMOS" data gen --seed 7 --groups xs,s,1 --out "$TMP/b" --quiet
diff -r "$TMP/a" "$TMP/b" >/dev/null || fail "same seed, different data"
expect_exit 0 "$LUMOS" data gen --seed 8 --groups xs,s,1 --out "$TMP/c" --quiet
cmp -s "$TMP/a/fuzzy-search/1.txt" "$TMP/c/fuzzy-search/1.txt" && fail "seed does not matter"

m=$TMP/a/manifest.json
[[ $(jq -r .seed "$m") == 7 ]] || fail "seed in manifest"
# Every object exists with the size and checksum the manifest gives.
jq -r '.objects[] | "\(.key) \(.bytes)"' "$m" | while read -r key bytes; do
  [[ $(stat -c %s "$TMP/a/$key") == "$bytes" ]] || fail "$key size"
done
# Sizes are at most the group's and within 1% of it.
for g in 1; do
  for f in fuzzy-search/$g.txt language-detection/$g.txt encrypt-message/$g.txt; do
    size=$(stat -c %s "$TMP/a/$f")
    ((size <= 524288 && size > 519000)) || fail "$f has $size bytes"
  done
done
# The planted term is on every planted line.
for g in xs s 1; do
  key=$(jq -r ".fuzzy_planted[\"$g\"].key" "$m")
  lines=$(jq -r ".fuzzy_planted[\"$g\"].lines[]" "$m")
  [[ $g == xs || -n $lines ]] || fail "no planted lines in group $g"
  for n in $lines; do
    sed -n "${n}p" "$TMP/a/$key" | grep -qw serverless || fail "line $n of $key"
  done
done
# The decryption input decrypts, under the benchmark key, to the text.
key=$(jq -r '.requests.s["decrypt-message"].key' "$m")
[[ ${#key} == 32 ]] || fail "benchmark key is not 32 bytes"
expect_exit 0 "$LUMOS" invoke decrypt-message --storage-dir "$TMP/a" \
  --body "{\"key\":\"$key\",\"input_key\":\"decrypt-message/s.b64\",\"output_key\":\"out/plain.txt\",\"storage\":\"file\"}"
cmp "$TMP/a/out/plain.txt" "$TMP/a/encrypt-message/s.txt" || fail "decrypt-message/s.b64 does not decrypt to the text"
rm -rf "$TMP/a/out"

# data load into a real Redis and into a folder.
start_redis
expect_exit 0 "$LUMOS" data load "$TMP/a" --redis "$REDIS"
contains "$OUT" "loaded"
n=$(jq '.objects | length' "$m")
[[ $(redis-cli -p "$REDIS_PORT" dbsize) == "$n" ]] || fail "redis holds $(redis-cli -p "$REDIS_PORT" dbsize) keys, not $n"
redis-cli -p "$REDIS_PORT" --raw get fuzzy-search/xs.txt | head -c 100 >"$TMP/r"
head -c 100 "$TMP/a/fuzzy-search/xs.txt" | cmp -s - "$TMP/r" || fail "redis value differs"
expect_exit 0 "$LUMOS" data load "$TMP/a" --group s --storage-dir "$TMP/copy"
cmp "$TMP/a/fuzzy-search/s.txt" "$TMP/copy/fuzzy-search/s.txt" || fail "copy differs"
[[ ! -e $TMP/copy/fuzzy-search/1.txt ]] || fail "--group s copied group 1"

# Without --redis, data load starts its own server and serves until interrupted.
"$LUMOS" data load "$TMP/a" --group xs >"$TMP/serve.out" 2>&1 &
loader=$!
for _ in $(seq 100); do grep -q "serving until" "$TMP/serve.out" && break; sleep 0.1; done
addr=$(sed -n 's/.*into redis at \(127.0.0.1:[0-9]*\).*/\1/p' "$TMP/serve.out")
[[ -n $addr ]] || fail "no address in: $(cat "$TMP/serve.out")"
port=${addr#*:}
[[ $(redis-cli -p "$port" exists fuzzy-search/xs.txt) == 1 ]] || fail "private server lacks the data"
kill -INT "$loader"
wait "$loader" || fail "data load did not exit cleanly on SIGINT"
redis-cli -p "$port" ping >/dev/null 2>&1 && fail "the private redis-server outlived lumos"

# Even when lumos is killed outright, its private server goes with it.
"$LUMOS" data load "$TMP/a" --group xs >"$TMP/serve.out" 2>&1 &
loader=$!
for _ in $(seq 100); do grep -q "serving until" "$TMP/serve.out" && break; sleep 0.1; done
port=$(sed -n 's/.*into redis at 127.0.0.1:\([0-9]*\).*/\1/p' "$TMP/serve.out")
kill -KILL "$loader"
wait "$loader" 2>/dev/null || true
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 || break; sleep 0.1; done
redis-cli -p "$port" ping >/dev/null 2>&1 && fail "the private redis-server outlived a killed lumos"
echo ok
