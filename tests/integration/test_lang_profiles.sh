# Language detection's generated sources are deterministic: the generator run
# twice on the same packages writes the same bytes (and the same bytes as the
# build's copy), and so does the held-out set builder; a missing source
# package stops both with a message naming it.
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."
build=$(dirname "$LUMOS")
gen=$build/lang_profiles_gen
[[ -x $gen ]] || fail "$gen is not built (make)"
# The generator and the held-out builder are build tools, compiled alike
# (no sanitizer) in both builds: checked once, with the normal build.
if [[ $build == *asan* ]]; then
  echo "ok: the build tools are the sanitizer build's too: checked with build/ only"
  exit 0
fi
for i in 1 2; do
  "$gen" tools/lang_sources.txt "$TMP/p$i.c" "$TMP/w$i.c" "$TMP/d$i" || fail "generator run $i failed"
done
cmp -s "$TMP/p1.c" "$TMP/p2.c" || fail "two generator runs wrote different profiles"
cmp -s "$TMP/w1.c" "$TMP/w2.c" || fail "two generator runs wrote different word lists"
cmp -s "$TMP/p1.c" "$build/gen/lang_profiles.c" || fail "profiles differ from the build's copy"
python3 tools/lang_heldout.py tools/lang_sources.txt "$TMP/h.tsv" || fail "held-out builder failed"
cmp -s "$TMP/h.tsv" "$build/gen/lang_heldout.tsv" || fail "held-out set differs from the build's copy"

# A catalog that is not installed: the message names its package, exit 1.
{
  echo "lang deu Latin German"
  echo "cat lumos-no-such-package /usr/share/locale/de/LC_MESSAGES/lumos-no-such.mo"
} >"$TMP/missing.txt"
if "$gen" "$TMP/missing.txt" "$TMP/m.c" "$TMP/mw.c" "$TMP/md" 2>"$TMP/err"; then
  fail "generator accepted a missing catalog"
fi
grep -q lumos-no-such-package "$TMP/err" || fail "generator's message lacks the package: $(cat "$TMP/err")"
[[ ! -e $TMP/m.c ]] || fail "generator wrote output despite the missing catalog"
{
  echo "lang deu Latin German"
  echo "man manpages-lumos-no-such"
} >"$TMP/missing-man.txt"
if python3 tools/lang_heldout.py "$TMP/missing-man.txt" "$TMP/mh.tsv" 2>"$TMP/err"; then
  fail "held-out builder accepted a missing manpages package"
fi
grep -q manpages-lumos-no-such "$TMP/err" || fail "held-out builder's message lacks the package: $(cat "$TMP/err")"
# A Firefox langpack file that scripts/setup has not unpacked: named too.
{
  echo "lang urd Arabic Urdu"
  echo "cat firefox-esr-l10n-lumos-no-such /var/cache/lumos/l10n/firefox-esr-l10n-lumos-no-such/a.ftl"
  echo "test firefox-esr-l10n-lumos-no-such /var/cache/lumos/l10n/firefox-esr-l10n-lumos-no-such/b.ftl"
} >"$TMP/missing-l10n.txt"
if "$gen" "$TMP/missing-l10n.txt" "$TMP/l.c" "$TMP/lw.c" "$TMP/ld" 2>"$TMP/err"; then
  fail "generator accepted a missing langpack file"
fi
grep -q firefox-esr-l10n-lumos-no-such "$TMP/err" || fail "generator's message lacks the langpack: $(cat "$TMP/err")"
if python3 tools/lang_heldout.py "$TMP/missing-l10n.txt" "$TMP/lh.tsv" 2>"$TMP/err"; then
  fail "held-out builder accepted a missing langpack file"
fi
grep -q firefox-esr-l10n-lumos-no-such "$TMP/err" || fail "held-out builder's message lacks the langpack: $(cat "$TMP/err")"
echo "ok: profiles, word lists and held-out set are reproducible; missing packages are named"
