# The lumos command: --help everywhere, clear errors for bad usage.
source "$(dirname "$0")/lib.sh"

for cmd in run build invoke exec serve data functions runtimes; do
  expect_exit 0 "$LUMOS" "$cmd" --help
  contains "$OUT" "usage: lumos $cmd"
done
expect_exit 0 "$LUMOS" --help
contains "$OUT" "commands:"
expect_exit 2 "$LUMOS"
expect_exit 2 "$LUMOS" frobnicate
contains "$ERR" "unknown command 'frobnicate'"
expect_exit 0 "$LUMOS" --version

# functions and runtimes, text and JSON.
expect_exit 0 "$LUMOS" functions
for f in audio-generation fuzzy-search language-detection encrypt-message decrypt-message \
  fibonacci prime-numbers mandelbrot-bitmap; do
  contains "$OUT" "$f"
done
expect_exit 0 "$LUMOS" functions --json
[[ $(echo "$OUT" | jq '[.[] | select(.benchmark)] | length') == 8 ]] || fail "8 benchmark functions"
expect_exit 2 "$LUMOS" functions --bogus
expect_exit 0 "$LUMOS" runtimes --json
[[ $(echo "$OUT" | jq -r '.[] | select(.name=="native") | .available') == true ]] || fail "native"

# invoke: usage and lookup errors.
expect_exit 2 "$LUMOS" invoke fibonacci
contains "$ERR" "--body"
expect_exit 2 "$LUMOS" invoke --body '{}'
expect_exit 1 "$LUMOS" invoke nosuchfn --body '{}'
contains "$ERR" "unknown function 'nosuchfn'"
expect_exit 1 "$LUMOS" invoke fibonacci --runtime nosuchrt --body '{}'
contains "$ERR" "unknown runtime 'nosuchrt'"
expect_exit 1 "$LUMOS" invoke fibonacci --artifacts "$TMP/none" --body '{"n":1}'
contains "$ERR" "lumos build"
expect_exit 1 "$LUMOS" invoke fibonacci --body @"$TMP/missing.json"
contains "$ERR" "missing.json"
expect_exit 2 "$LUMOS" invoke fibonacci --body '{}' --timeout 0
expect_exit 2 "$LUMOS" invoke fibonacci --body '{}' --redis nohostport
contains "$ERR" "HOST:PORT"
expect_exit 1 "$LUMOS" invoke noop --body '{"input_key":"x"}' --redis 127.0.0.1:1
contains "$ERR" "cannot connect to redis"

# A function's own error: exit 1, the error envelope on stdout.
expect_exit 1 "$LUMOS" invoke fibonacci --body '{"n":-5}'
contains "$OUT" '"error":"bad_request"'
expect_exit 1 "$LUMOS" invoke fibonacci --body 'this is not json'
contains "$OUT" '"bad_request"'
expect_exit 0 "$LUMOS" invoke fibonacci --body '{"n":93}' --json
[[ $(echo "$OUT" | jq -r .response.data.value) == 12200160415121876738 ]] || fail "F(93)"
[[ $(echo "$OUT" | jq '.probes.total_ns == (.probes.deser_ns + .probes.io_ns + .probes.compute_ns + .probes.ser_ns)') == true ]] ||
  fail "probes do not add up"
echo '{"n":10}' >"$TMP/body.json"
expect_exit 0 "$LUMOS" invoke fibonacci --body @"$TMP/body.json"
contains "$OUT" '"value":"55"'
expect_exit 0 "$LUMOS" invoke fibonacci --body @- <"$TMP/body.json"
contains "$OUT" '"value":"55"'

# build and data usage errors.
expect_exit 2 "$LUMOS" build --jobs 0
expect_exit 1 "$LUMOS" build --function nosuchfn
contains "$ERR" "unknown function"
expect_exit 2 "$LUMOS" data
expect_exit 2 "$LUMOS" data gen
contains "$ERR" "--out"
expect_exit 1 "$LUMOS" data gen --out "$TMP/d" --groups 9
contains "$ERR" "unknown group '9'"
expect_exit 1 "$LUMOS" data load "$TMP/nothing" --storage-dir "$TMP/x"
contains "$ERR" "lumos data gen"
expect_exit 2 "$LUMOS" run --direct --group 7
expect_exit 2 "$LUMOS" run --direct --runs 0
expect_exit 1 "$LUMOS" run --direct --runtimes native,nosuchrt
contains "$ERR" "unknown runtime"

# serve: bad flags are usage errors (2); a config it cannot use fails (1)
# before serving, naming the problem, and leaves no results file behind.
expect_exit 2 "$LUMOS" serve --autoscaler fast
contains "$ERR" "kpa or none"
expect_exit 2 "$LUMOS" serve --port 70000
expect_exit 2 "$LUMOS" serve --min-scale 3 --max-scale 2
expect_exit 2 "$LUMOS" serve --target 0
printf '{"services":[{"name":"fibonacci@native","max_scal":2}]}' >"$TMP/bad.json"
mkdir "$TMP/cwd"
(cd "$TMP/cwd" && expect_exit 1 "$LUMOS" serve --port 0 --config "$TMP/bad.json" &&
  contains "$ERR" "max_scal" && [[ ! -e results || -z $(ls -A results) ]]) ||
  fail "serve with a bad --config: $ERR; left $(ls -A "$TMP/cwd/results" 2>/dev/null)"
expect_exit 1 "$LUMOS" serve --port 0 --results none --config "$TMP/missing.json"
contains "$ERR" "cannot open"
echo ok
