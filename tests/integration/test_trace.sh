# lumos trace: every subcommand answers --help; the samples in the tree are
# what tools/make_trace_samples.sh writes (same Lumos, same bytes); gen is
# reproducible; check and stats read the samples; bad input fails before
# any work with the file, line and field named, and the right exit status.
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."

for sub in gen azure2019 azure2021 check stats synth; do
  expect_exit 0 "$LUMOS" trace "$sub" --help
  contains "$OUT" "usage: lumos trace"
done
expect_exit 0 "$LUMOS" trace --help
contains "$OUT" "lumos trace gen --pattern P"
expect_exit 2 "$LUMOS" trace
expect_exit 2 "$LUMOS" trace frobnicate
contains "$ERR" "unknown subcommand 'frobnicate'"

# The samples, regenerated, are the bytes in the tree.
tools/make_trace_samples.sh "$LUMOS" "$TMP/samples"
diff -r -x README.md tests/data/traces "$TMP/samples" || fail "the samples differ from what tools/make_trace_samples.sh writes"
for f in poisson.csv closed.csv azure2019/replay-minutes-1-30.csv azure2021/replay.csv; do
  expect_exit 0 "$LUMOS" trace check "tests/data/traces/$f"
  contains "$OUT" "tests/data/traces/$f: ok:"
done
expect_exit 0 "$LUMOS" trace stats tests/data/traces/poisson.csv --json
[[ $(jq -r .rows <<<"$OUT") == $(($(wc -l <tests/data/traces/poisson.csv) - 2)) ]] || fail "stats rows"
[[ $(jq -r .header.pattern <<<"$OUT") == poisson ]] || fail "stats header"
[[ $(jq -r '.functions.fibonacci + .functions.noop' <<<"$OUT") == $(jq -r .rows <<<"$OUT") ]] || fail "stats functions"

# gen: same seed, same bytes; another seed, other bytes; - is stdout.
expect_exit 0 "$LUMOS" trace gen --pattern mmpp --duration 30 --seed 4 -o "$TMP/a.csv"
contains "$OUT" "wrote "
expect_exit 0 "$LUMOS" trace gen --pattern mmpp --duration 30 --seed 4 -o -
[[ "$OUT" == "$(cat "$TMP/a.csv")" ]] || fail "same seed, other bytes"
expect_exit 0 "$LUMOS" trace gen --pattern mmpp --duration 30 --seed 5 -o "$TMP/b.csv"
cmp -s "$TMP/a.csv" "$TMP/b.csv" && fail "the seed does not matter"

# Bad options: usage errors (2), bad values (1), both naming the option.
expect_exit 2 "$LUMOS" trace gen --pattern poisson --on-s 3 -o "$TMP/x.csv"
contains "$ERR" "--on-s is not a parameter of pattern poisson"
expect_exit 2 "$LUMOS" trace gen --pattern poisson -o "$TMP/x.csv" --rate fast
contains "$ERR" "--rate: 'fast' is not a number"
expect_exit 2 "$LUMOS" trace gen --pattern poisson
contains "$ERR" "lumos trace gen: needs -o FILE"
expect_exit 1 "$LUMOS" trace gen --pattern poisson --rate -5 -o "$TMP/x.csv"
contains "$ERR" "lumos: trace gen: --rate: -5 is negative (a rate is requests per second, >= 0)"
expect_exit 1 "$LUMOS" trace gen --pattern constant --function fibonaci -o "$TMP/x.csv"
contains "$ERR" "--function: unknown function 'fibonaci'"
[[ -e $TMP/x.csv ]] && fail "a failed gen wrote its output"

# Bad traces fail with the file, line and field.
printf '# lumos-trace 1 mode=open\noffset_us,function,runtime,payload,start\n1500,noop,,group:s,any\n1200,noop,,group:s,any\n' >"$TMP/unsorted.csv"
expect_exit 1 "$LUMOS" trace check "$TMP/unsorted.csv"
contains "$ERR" "lumos: trace check: $TMP/unsorted.csv:4: offset_us: 1200 is before the previous row's 1500 (the trace must be sorted)"
printf '# lumos-trace 1 mode=open\noffset_us,function,runtime,payload\n' >"$TMP/cols.csv"
expect_exit 1 "$LUMOS" trace stats "$TMP/cols.csv"
contains "$ERR" "$TMP/cols.csv:2: missing column 'start'"
: >"$TMP/empty.csv"
expect_exit 1 "$LUMOS" trace check "$TMP/empty.csv"
contains "$ERR" "$TMP/empty.csv: the file is empty"

# Azure: the sample replays; errors name the file and line.
inv=tests/data/traces/azure2019/invocations_per_function_md.synth.d01.csv
dur=tests/data/traces/azure2019/function_durations_percentiles.synth.d01.csv
expect_exit 0 "$LUMOS" trace azure2019 "$inv" --durations "$dur" --top 3 --speedup 60 --thin 0.5 \
  --iat equidistant --runtime native --start cold --map "$TMP/map.csv" -o "$TMP/r.csv"
contains "$OUT" "of 3 trace functions"
[[ $(($(wc -l <"$TMP/map.csv") - 1)) == 3 ]] || fail "map rows"
expect_exit 0 "$LUMOS" trace stats "$TMP/r.csv" --json
[[ $(jq -r .start.cold <<<"$OUT") == $(jq -r .rows <<<"$OUT") ]] || fail "--start cold"
[[ $(jq -r .runtimes.native <<<"$OUT") == $(jq -r .rows <<<"$OUT") ]] || fail "--runtime native"
# At 60x a day lasts 24 minutes.
(($(jq -r '.duration_s | floor' <<<"$OUT") < 1440)) || fail "speedup"
head -n 3 "$dur" >"$TMP/dur3.csv"
expect_exit 1 "$LUMOS" trace azure2019 "$inv" --durations "$TMP/dur3.csv" -o "$TMP/r.csv"
contains "$ERR" "maps to nothing: it is not in the durations file"
expect_exit 0 "$LUMOS" trace azure2019 "$inv" --durations "$TMP/dur3.csv" --skip-unmapped -o "$TMP/r.csv"
contains "$OUT" "unmapped functions left out"
expect_exit 2 "$LUMOS" trace azure2019 "$inv" --thin 1.5 -o "$TMP/r.csv"
contains "$ERR" "--thin: '1.5' is not a fraction"
expect_exit 2 "$LUMOS" trace azure2021 tests/data/traces/azure2021/synth.csv --iat uniform -o "$TMP/r.csv"
contains "$ERR" "--iat is for azure2019 only"
printf 'app,func,end_timestamp,duration\na,f,12.5,0.5\nb,g,12.5\n' >"$TMP/t21.csv"
expect_exit 1 "$LUMOS" trace azure2021 "$TMP/t21.csv" -o "$TMP/r.csv"
contains "$ERR" "$TMP/t21.csv:3: truncated row: 3 fields, the header has 4"
echo "trace: ok"
