# Every available runtime gives the same responses as native, byte for
# byte with the "runtime" field aside, and writes byte-identical objects,
# for every function on inline, Redis and file storage, errors included
# (fixed nonces). LUMOS_RUNTIMES_UNDER_TEST names the runtimes; without it,
# every available one but the containers, which
# test_same_answers_container.sh takes (the two halves run side by side).
source "$(dirname "$0")/lib.sh"

start_redis
"$LUMOS" data gen --seed 3 --groups xs,s --out "$TMP/data" --quiet
"$LUMOS" data load "$TMP/data" --redis "$REDIS" >/dev/null
K=lumos-benchmark-key-0123456789ab
N=000102030405060708090a0b

bodies=(
  'fibonacci|{"n":0}'
  'fibonacci|{"n":93}'
  'fibonacci|{"n":94}'
  'fibonacci|{"n":100000}'
  'fibonacci|{"n":"7"}'
  'prime-numbers|{"limit":10000}'
  'prime-numbers|{"limit":10000,"method":"sieve"}'
  'prime-numbers|{"limit":2}'
  'prime-numbers|{"limit":100,"method":"wheel"}'
  'mandelbrot-bitmap|{"size":200,"storage":"inline"}'
  'mandelbrot-bitmap|{"size":201,"output_key":"out/m.pbm"}'
  'mandelbrot-bitmap|{"size":96,"output_key":"out/m.pbm","storage":"file"}'
  'audio-generation|{"size_kb":50,"storage":"inline"}'
  'audio-generation|{"size_kb":7,"output_key":"out/a.wav","frequency_hz":1000}'
  'audio-generation|{"size_kb":3,"output_key":"out/a.wav","storage":"file","sample_rate":8000}'
  'fuzzy-search|{"term":"serverless","input_key":"fuzzy-search/s.txt"}'
  'fuzzy-search|{"term":"Serverles","input_key":"fuzzy-search/s.txt","threshold":0.7,"limit":5,"storage":"file"}'
  'fuzzy-search|{"term":"kafe","text":"caf\u00e9 au lait\nkaffee\nteh","storage":"inline","threshold":0.5}'
  'fuzzy-search|{"term":"x","input_key":"no/such/key"}'
  'language-detection|{"input_key":"language-detection/s.txt"}'
  'language-detection|{"input_key":"language-detection/xs.txt","storage":"file"}'
  'language-detection|{"text":"Это небольшой текст на русском языке о погоде.","storage":"inline"}'
  'language-detection|{"text":"The quick brown fox jumps over the lazy dog near the river bank.","storage":"inline"}'
  'language-detection|{"text":"Fail ini tidak boleh dibuka kerana tetingkap telah ditutup oleh pengguna.","storage":"inline"}'
  'language-detection|{"text":"Non se pode abrir o ficheiro porque a xanela xa foi pechada polo usuario.","storage":"inline"}'
  "encrypt-message|{\"key\":\"$K\",\"message\":\"hello, world\",\"nonce\":\"$N\"}"
  "encrypt-message|{\"key\":\"$K\",\"input_key\":\"encrypt-message/s.txt\",\"output_key\":\"out/e.b64\",\"nonce\":\"$N\"}"
  "encrypt-message|{\"key\":\"short\",\"message\":\"x\"}"
  "decrypt-message|{\"key\":\"$K\",\"input_key\":\"decrypt-message/s.b64\",\"output_key\":\"out/d.txt\"}"
  "decrypt-message|{\"key\":\"$K\",\"input_key\":\"decrypt-message/xs.b64\",\"storage\":\"file\",\"output_key\":\"out/d.txt\"}"
  "decrypt-message|{\"key\":\"$K\",\"encrypted\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"storage\":\"inline\"}"
)

runtimes=${LUMOS_RUNTIMES_UNDER_TEST:-$("$LUMOS" runtimes --json |
  jq -r '.[] | select(.available and .name != "native" and (.name | startswith("container") | not)) | .name')}
runtimes="native $(echo $runtimes)"
echo "runtimes: $runtimes"
compared=0
for entry in "${bodies[@]}"; do
  fn=${entry%%|*}
  body=${entry#*|}
  for rt in $runtimes; do
    rm -rf "$TMP/data/out"
    redis-cli -p "$REDIS_PORT" del out/m.pbm out/a.wav out/e.b64 out/d.txt >/dev/null
    "$LUMOS" invoke "$fn" --runtime "$rt" --redis "$REDIS" --storage-dir "$TMP/data" \
      --body "$body" >"$TMP/$rt.out" 2>"$TMP/$rt.err" || true
    sed "s/\"runtime\":\"$rt\"/\"runtime\":\"RT\"/" "$TMP/$rt.out" >"$TMP/$rt.norm"
    # The objects it wrote, from Redis and from the data folder.
    : >"$TMP/$rt.objects"
    for k in out/m.pbm out/a.wav out/e.b64 out/d.txt; do
      redis-cli -p "$REDIS_PORT" --raw get "$k" | sha256sum >>"$TMP/$rt.objects"
      [[ -f $TMP/data/$k ]] && sha256sum <"$TMP/data/$k" >>"$TMP/$rt.objects"
    done
  done
  [[ -s $TMP/native.out ]] || fail "$fn $body: no answer from native: $(cat "$TMP/native.err")"
  grep -q '"runtime":"RT"\|"status":"error"' "$TMP/native.norm" || fail "$fn: no envelope: $(cat "$TMP/native.out")"
  for rt in $runtimes; do
    cmp -s "$TMP/native.norm" "$TMP/$rt.norm" ||
      fail "$fn $body: native and $rt differ:
native: $(head -c 600 "$TMP/native.out")
$rt: $(head -c 600 "$TMP/$rt.out")
$rt stderr: $(tail -c 600 "$TMP/$rt.err")"
    cmp -s "$TMP/native.objects" "$TMP/$rt.objects" || fail "$fn $body: objects stored by $rt differ"
  done
  compared=$((compared + 1))
done
echo "ok: $compared requests answered byte-identically on: $runtimes"
