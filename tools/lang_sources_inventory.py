#!/usr/bin/env python3
"""Writes tools/lang_sources.txt: for each language, the translated message
catalogs (.mo) installed here that its profile is trained on, and the Debian
package of each catalog. Run by hand after changing the language list or the
packages (the build reads only the .txt it writes; scripts/setup installs the
packages). Catalogs of names (iso-codes, keyboard layouts) are not running
text and are left out."""
import glob, os, struct

LANGS = """eng English Latin C
deu German Latin de
fra French Latin fr
ita Italian Latin it
spa Spanish Latin es
por Portuguese Latin pt_BR,pt
cat Catalan Latin ca
nld Dutch Latin nl
swe Swedish Latin sv
dan Danish Latin da
nob Norwegian_Bokmal Latin nb
pol Polish Latin pl
ces Czech Latin cs
slk Slovak Latin sk
slv Slovenian Latin sl
hrv Croatian Latin hr
bos Bosnian Latin bs
srp Serbian Latin sr@latin
ron Romanian Latin ro
hun Hungarian Latin hu
fin Finnish Latin fi
est Estonian Latin et
lav Latvian Latin lv
lit Lithuanian Latin lt
tur Turkish Latin tr
vie Vietnamese Latin vi
ind Indonesian Latin id
msa Malay Latin ms
eus Basque Latin eu
glg Galician Latin gl
epo Esperanto Latin eo
gle Irish Latin ga
cym Welsh Latin cy
afr Afrikaans Latin af
sqi Albanian Latin sq
rus Russian Cyrillic ru
ukr Ukrainian Cyrillic uk
bel Belarusian Cyrillic be
bul Bulgarian Cyrillic bg
srp Serbian Cyrillic sr
mkd Macedonian Cyrillic mk
kaz Kazakh Cyrillic kk
ell Greek Greek el
heb Hebrew Hebrew he
ara Arabic Arabic ar
fas Persian Arabic fa
uig Uyghur Arabic ug
hin Hindi Devanagari hi
mar Marathi Devanagari mr
nep Nepali Devanagari ne
cmn Mandarin_Chinese Han zh_CN
jpn Japanese Kana ja
kor Korean Hangul ko
kat Georgian Georgian ka
tha Thai Thai th
hye Armenian Armenian hy
urd Urdu Arabic -"""

PACKAGES = set(
    """coreutils binutils-common dpkg libdpkg-perl apt libapt-pkg6.0 bash tar sed grep findutils
    diffutils gettext gettext-base make wget git gnupg-l10n libc-l10n login adduser man-db procps
    psmisc xz-utils libidn2-0 libgnutls30 libelf1 systemd libpam-runtime xdg-user-dirs
    shared-mime-info libgtk-3-common libgtk2.0-common libglib2.0-data libgdk-pixbuf2.0-common
    at-spi2-common gsettings-desktop-schemas libgstreamer1.0-0 libavahi-common-data""".split())

# Held-out test sources (tools/lang_heldout.py; the generator never reads
# them): the manpages-* package of a language where Debian has one; else the
# catalogs of held-out domains, which are then left out of its training: the
# first groups of HELD_GROUPS, in order, until their translated text (msgstr
# differing from msgid) reaches HELD_MIN_BYTES. Groups keep catalogs that share
# strings (gtk20 and gtk30) together, so no held-out message is trained on.
MANPAGES = {"eng": "manpages", "ces": "manpages-cs", "dan": "manpages-da", "deu": "manpages-de",
            "ell": "manpages-el", "spa": "manpages-es", "fin": "manpages-fi", "fra": "manpages-fr",
            "hun": "manpages-hu", "ind": "manpages-id", "ita": "manpages-it", "mkd": "manpages-mk",
            "nob": "manpages-nb", "nld": "manpages-nl", "pol": "manpages-pl",
            "por": "manpages-pt-br", "ron": "manpages-ro", "rus": "manpages-ru",
            "srp Cyrillic": "manpages-sr", "swe": "manpages-sv", "ukr": "manpages-uk",
            "vie": "manpages-vi", "tur": "manpages-tr", "jpn": "manpages-ja", "cmn": "manpages-zh"}
HELD_GROUPS = (("gsettings-desktop-schemas", "gtk20-properties", "gtk30-properties"),
               ("gtk20", "gtk30"), ("glib20",))
HELD_MIN_BYTES = 20000

# Firefox's translated interface strings (.ftl and .properties files of the
# langpack of firefox-esr-l10n-LOCALE), which scripts/setup downloads and
# unpacks under L10N_CACHE (the package depends on firefox-esr, so it is not
# installed). Urdu has no catalogs worth the name and no man pages: it is
# trained on its langpack less the directories of FIREFOX_HELD, which are its
# held-out test set (test lines). Files of names (language and region names)
# are left out, as iso-codes is.
L10N_CACHE = "/var/cache/lumos/l10n"
FIREFOX = {"urd": "ur", "hrv": "hr", "bos": "bs", "srp": "sr"}
FIREFOX_HELD = {"urd": ("localization/ur/toolkit/neterror/",
                        "browser/localization/ur/browser/preferences/")}
FIREFOX_NAMES = ("/toolkit/intl/", "/global/languageNames.", "/global/regionNames.")


def firefox_files(code):
    """(held, package, path) of a language's langpack files, sorted by path."""
    if code not in FIREFOX:
        return []  # (Serbian's langpack is in Cyrillic: lat lines of srp Latin)
    pkg = "firefox-esr-l10n-" + FIREFOX[code]
    root = os.path.join(L10N_CACHE, pkg)
    if not os.path.isdir(root):
        raise SystemExit("%s is missing: run scripts/setup (it downloads the Debian package %s)"
                         % (root, pkg))
    out = []
    for dirpath, _, names in os.walk(root):
        for n in names:
            f = os.path.join(dirpath, n)
            rel = os.path.relpath(f, root)
            if not n.endswith((".ftl", ".properties")) or any(x in "/" + rel for x in FIREFOX_NAMES):
                continue
            held = any(rel.startswith(d) for d in FIREFOX_HELD.get(code, ()))
            out.append((held, pkg, f))
    return sorted(out, key=lambda x: x[2])


def translated_bytes(path):
    b = open(path, "rb").read()
    e = "<" if struct.unpack("<I", b[:4])[0] == 0x950412DE else ">"
    count, ids, strs = struct.unpack(e + "III", b[8:20])
    total = 0
    for i in range(count):
        il, io = struct.unpack(e + "II", b[ids + 8 * i:ids + 8 * i + 8])
        sl, so = struct.unpack(e + "II", b[strs + 8 * i:strs + 8 * i + 8])
        if il and b[io:io + il] != b[so:so + sl]: total += sl
    return total


def held_domains(files):
    """The held-out domains of a language without man pages (files: domain -> path)."""
    held, size = set(), 0
    for group in HELD_GROUPS:
        if size >= HELD_MIN_BYTES: break
        for dom in group:
            if dom in files:
                held.add(dom)
                size += translated_bytes(files[dom])
    return held

OWNER = {}
for lst in glob.glob("/var/lib/dpkg/info/*.list"):
    pkg = os.path.basename(lst)[:-5].split(":")[0]
    for f in open(lst, encoding="utf-8", errors="replace"):
        if f.endswith(".mo\n"): OWNER[f[:-1]] = pkg

def owner(path):
    return OWNER.get(path)

out = ["# Generated by tools/lang_sources_inventory.py; read by tools/lang_profiles_gen.c.",
       "# lang CODE NAME SCRIPT: a language; the cat lines after it are its catalogs:",
       "# cat PACKAGE PATH. English (locale C) is trained on the msgids of the German catalogs.",
       "# Held out of training (read by tools/lang_heldout.py only): man PACKAGE, a",
       "# manpages-* package; test PACKAGE PATH, a catalog of a held-out domain.",
       "# lat PACKAGE PATH: a Serbian Cyrillic catalog, read transliterated into Latin script.",
       "# Paths under %s: Firefox langpacks that scripts/setup unpacks." % L10N_CACHE]
for line in LANGS.splitlines():
    code, name, script, locs = line.split()
    out.append("lang %s %s %s" % (code, script, name.replace("_", " ")))
    man = MANPAGES.get(code + " " + script, MANPAGES.get(code))
    if code == "srp" and script != "Cyrillic": man = None
    if man: out.append("man %s" % man)
    locs = "de" if locs == "C" else locs
    cats = []
    for loc in locs.split(",") if locs != "-" else ():
        for f in sorted(glob.glob("/usr/share/locale/%s/LC_MESSAGES/*.mo" % loc)):
            dom = os.path.basename(f)[:-3]
            if dom.startswith("iso") or dom == "xkeyboard-config": continue
            p = owner(f)
            if p in PACKAGES: cats.append((dom, p, f))
    held = set() if man else held_domains({d: f for d, p, f in cats})
    for dom, p, f in cats:
        out.append("%s %s %s" % ("test" if dom in held else "cat", p, f))
    for h, p, f in (firefox_files(code) if code != "srp" else ()):
        out.append("%s %s %s" % ("test" if h else "cat", p, f))
    if code == "srp" and script == "Latin":
        # Serbian is written in both scripts, one-to-one: Serbian in Latin
        # script is trained on the Cyrillic catalogs too (lat lines, read
        # transliterated), of the domains it has no Latin catalog of (so none
        # of its held-out domains), and on the Cyrillic Firefox langpack.
        have = {d for d, p, f in cats}
        for f in sorted(glob.glob("/usr/share/locale/sr/LC_MESSAGES/*.mo")):
            dom = os.path.basename(f)[:-3]
            if dom.startswith("iso") or dom == "xkeyboard-config" or dom in have: continue
            p = owner(f)
            if p in PACKAGES: out.append("lat %s %s" % (p, f))
        for h, p, f in firefox_files("srp"):
            out.append("lat %s %s" % (p, f))
open(os.path.join(os.path.dirname(__file__), "lang_sources.txt"), "w").write("\n".join(out) + "\n")
