#!/usr/bin/env python3
"""Builds language detection's held-out test set: passages of at least 200
characters per language from Debian text that the profiles are NOT trained on.

Usage: lang_heldout.py SOURCES OUT.tsv

SOURCES is tools/lang_sources.txt. For each language (lang line) it uses:
  man PACKAGE   translated manual pages: the files a manpages-* package lists
                (/var/lib/dpkg/info/PACKAGE.list). The issue keeps these out of
                training; nothing reads them but this script.
  test PACKAGE PATH
                a message catalog of a domain held out of training (the
                generator skips test lines): the source for languages that
                no manpages-* package covers.
Man page text is the running text of the page (roff requests, font changes and
no-fill blocks such as examples removed). Two filters keep the set independent
and in the language: a sentence that also occurs in the English page of the
same name was left untranslated (po4a keeps such text in English) and is
dropped, and so is a sentence of a message of the language's training catalogs
(help2man pages repeat a program's --help text, which the catalogs translate).
Consecutive paragraphs of one page (or messages of one catalog) are joined
until a passage has >= 200 code points; at most PASSAGES passages per language
are kept, evenly spaced over all of them. Everything is sorted, so the same
packages give the same file. A missing package stops the script with a message
naming it (exit 1).

OUT.tsv: one passage a line: CODE <tab> SCRIPT <tab> SOURCE <tab> TEXT, where
SOURCE is PACKAGE:FILE and TEXT has no tabs or newlines."""
import gzip, os, re, struct, sys

MIN_CPS = 200
# Untranslated English left in a page: a sentence of a Latin-script language
# (other than English) most of whose words are English words (the lowercase
# entries of wamerican's list) is dropped; in a language of another script, a
# sentence with more Latin letters than letters of its own script is dropped.
ENGLISH_WORDS = "/usr/share/dict/american-english"
ENGLISH_SHARE = 0.6
LATIN = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")
WORD = re.compile(r"[^\W\d_]{2,}")
PASSAGES = 60
ENGLISH_MAN = "/usr/share/man"


def fail(msg):
    sys.stderr.write("lang_heldout: %s\n" % msg)
    sys.exit(1)


def read_sources(path):
    langs = []
    for lineno, line in enumerate(open(path, encoding="utf-8"), 1):
        f = line.split()
        if not f or f[0].startswith("#"):
            continue
        if f[0] == "lang":
            langs.append({"code": f[1], "script": f[2], "cat": [], "test": [], "man": []})
        elif f[0] in ("cat", "test") and langs:
            langs[-1][f[0]].append((f[1], f[2]))
        elif f[0] == "lat" and langs:  # trained on, transliterated (lang_catalog.h)
            langs[-1]["cat"].append((f[1], f[2], True))
        elif f[0] == "man" and langs:
            langs[-1]["man"].append(f[1])
        else:
            fail("%s:%d: unknown record" % (path, lineno))
    return langs


FTL_ID = re.compile(r"^(-?[A-Za-z0-9_-]+)[ \t]*=[ \t]*(.*)$")
FTL_ATTR = re.compile(r"^[ \t]+\.([A-Za-z0-9_-]+)[ \t]*=[ \t]*(.*)$")


def unplace(v):
    """A Fluent value with each placeable (nested braces) replaced by a space."""
    out, depth = [], 0
    for c in v:
        if c == "{":
            if depth == 0:
                out.append(" ")
            depth += 1
        elif c == "}" and depth:
            depth -= 1
        elif not depth:
            out.append(c)
    return "".join(out).strip(" \t\r")


def read_ftl(text):
    """As tools/lang_l10n.c: (key, value) of each Fluent message and attribute
    (terms skipped), continuation lines joined with a space."""
    out, ident, key, val = [], None, None, None

    def emit():
        if key and not key.startswith("-") and val:
            v = unplace(val)
            if v:
                out.append((key, v))

    for line in text.split("\n"):
        body = line.strip(" \t\r")
        m = FTL_ID.match(line.rstrip(" \t\r"))
        if body and line[0] not in " \t\r" and (body[0] == "#" or m or re.match(r"[A-Za-z0-9_-]", body)):
            emit()
            ident = key = val = None
            if body[0] != "#" and m:
                ident, key, val = m.group(1), m.group(1), m.group(2)
            continue
        a = FTL_ATTR.match(line.rstrip(" \t\r"))
        if a and ident:
            emit()
            key, val = ident + "." + a.group(1), a.group(2)
        elif body and line[0] in " \t\r" and key:
            val += " " + body
    emit()
    return out


def read_properties(text):
    """As tools/lang_l10n.c: (key, value) of each line, escapes decoded."""
    out, i, n = [], 0, len(text)
    while i < n:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n:
            break
        if text[i] in "#!":
            while i < n and text[i] != "\n":
                i += 1
            continue
        k = i
        while i < n and text[i] not in "=:\n \t\r":
            i += 1
        key = text[k:i]
        while i < n and text[i] in " \t\r":
            i += 1
        if i < n and text[i] in "=:":
            i += 1
        while i < n and text[i] in " \t\r":
            i += 1
        val = []
        while i < n and text[i] != "\n":
            if text[i] != "\\" or i + 1 >= n:
                val.append(text[i])
                i += 1
                continue
            c = text[i + 1]
            i += 2
            if c in "\r\n":
                while i < n and text[i] in " \t\r\n":
                    i += 1
            elif c == "u" and re.match(r"[0-9A-Fa-f]{4}$", text[i:i + 4]):
                val.append(chr(int(text[i:i + 4], 16)))
                i += 4
            else:
                val.append(" " if c in "nt" else c)
        v = "".join(val).rstrip(" \t\r")
        if key and v:
            out.append((key, v))
    return out


SR_LATIN = dict(zip("абвгдђежзијклљмнњопрстћуфхцчџш",
                    "a b v g d đ e ž z i j k l lj m n nj o p r s t ć u f h c č dž š".split()))
SR_LATIN.update({k.upper(): v[0].upper() + v[1:] for k, v in SR_LATIN.items()})


def sr_latin(s):
    """As lm_cat_sr_latin: Serbian Cyrillic letters in Latin script."""
    return "".join(SR_LATIN.get(c, c) for c in s)


def read_mo(path, package):
    """The (msgid, msgstr) pairs of a catalog, singular forms, in file order:
    a .mo file, or a Firefox langpack's .ftl or .properties file (keys stand
    for msgids)."""
    try:
        b = open(path, "rb").read()
    except OSError:
        fail("%s is missing: install the Debian package %s (scripts/setup; a Firefox langpack "
             "it downloads and unpacks)" % (path, package))
    if path.endswith(".ftl"):
        return read_ftl(b.decode("utf-8", "replace"))
    if path.endswith(".properties"):
        return read_properties(b.decode("utf-8", "replace"))
    magic = struct.unpack("<I", b[:4])[0]
    e = "<" if magic == 0x950412DE else ">"
    count, ids, strs = struct.unpack(e + "III", b[8:20])
    out = []
    for i in range(count):
        il, io = struct.unpack(e + "II", b[ids + 8 * i:ids + 8 * i + 8])
        sl, so = struct.unpack(e + "II", b[strs + 8 * i:strs + 8 * i + 8])
        if il == 0:
            continue
        mid = b[io:io + il].split(b"\0")[0]
        mstr = b[so:so + sl].split(b"\0")[0]
        if mstr:
            out.append((mid.decode("utf-8", "replace"), mstr.decode("utf-8", "replace")))
    return out


CONV = re.compile(r"%(\d+\$)?[-+ #0']*(\*|\d+)?(\.(\*|\d+))?[hlLqjzt]*[a-zA-Z%]")
TAG = re.compile(r"<[^<>]{0,62}>")


def clean_message(s):
    """As lm_cat_clean: printf conversions and markup become a space,
    accelerator marks go."""
    s = CONV.sub(" ", s)
    s = TAG.sub(" ", s)
    return s.replace("_", "").replace("&", "")


def norm(s):
    return " ".join(s.split()).lower()


ESCAPES = [
    (re.compile(r"\\f(\[[^\]]*\]|\(..|.)"), ""),  # font changes
    (re.compile(r"\\s[-+]?\d+"), ""),  # size changes
    (re.compile(r"\\\*(\[[^\]]*\]|\(..|.)"), " "),  # strings
    (re.compile(r"\\\((..)"), " "),  # special characters
    (re.compile(r"\\\[[^\]]*\]"), " "),
    (re.compile(r"\\[&|^~%c:]"), ""),
    (re.compile(r"\\-"), "-"),
    (re.compile(r"\\e"), lambda m: "\\"),
    (re.compile(r"\\."), " "),
]
BREAK = re.compile(r"^[.'](SH|SS|PP|LP|P|TP|IP|HP|br|sp|RS|RE|TH|TQ|in|ti|ce|bp|SY|YS|UR|UE|MT|ME)\b")


def man_paragraphs(path):
    """The running-text paragraphs of a (gzipped) roff page, as lists of lines."""
    try:
        data = gzip.open(path).read() if path.endswith(".gz") else open(path, "rb").read()
    except OSError:
        return []
    paras, cur, nofill = [], [], False
    for raw in data.decode("utf-8", "replace").splitlines():
        if raw.startswith((".", "'")):
            req = raw[1:].split()[:1]
            req = req[0] if req else ""
            if req in ("nf", "EX"):
                nofill = True
            elif req in ("fi", "EE"):
                nofill = False
            # Any request ends the paragraph: font-macro lines (.B, .BR...)
            # hold option names and commands, which are not translated.
            if cur:
                paras.append(cur)
            cur = []
            continue
        if nofill:
            continue
        line = raw
        for rx, rep in ESCAPES:
            line = rx.sub(rep, line)
        line = " ".join(line.split())
        if line:
            cur.append(line)
    if cur:
        paras.append(cur)
    return paras


SENTENCE_END = re.compile(r"(?<=[.!?:;\u3002])\s+")


def sentences(text):
    """Normalized sentences of a text (lowercased, spaces collapsed)."""
    return [n for n in (norm(x) for x in SENTENCE_END.split(text)) if n]


def english_lines(relpath):
    """Sentences of the English page of the same name (untranslated text)."""
    # relpath: share/man/LL/manN/NAME.N.gz -> /usr/share/man/manN/NAME.N.gz
    parts = relpath.split("/")
    try:
        i = parts.index("man")
    except ValueError:
        return set()
    eng = os.path.join(ENGLISH_MAN, *parts[i + 2:])
    out = set()
    for p in man_paragraphs(eng):
        out.update(sentences(" ".join(p)))
    return out


def cps(s):
    return len(s)


def passages_of(chunks):
    """Joins consecutive chunks into passages of at least MIN_CPS code points."""
    out, cur = [], ""
    for c in chunks:
        cur = (cur + " " + c) if cur else c
        if cps(cur) >= MIN_CPS:
            out.append(cur)
            cur = ""
    return out


def pick(passages):
    if len(passages) <= PASSAGES:
        return passages
    return [passages[i * len(passages) // PASSAGES] for i in range(PASSAGES)]


def training_messages(lang):
    english = lang["code"] == "eng"
    seen = set()
    for pkg, path, *lat in lang["cat"]:
        for mid, mstr in read_mo(path, pkg):
            seen.update(sentences(clean_message(mid if english else sr_latin(mstr) if lat else mstr)))
    return seen


_english = None


def english_words():
    global _english
    if _english is None:
        try:
            _english = {w.strip() for w in open(ENGLISH_WORDS, encoding="utf-8")
                        if w.strip() and w.strip().islower()}
        except OSError:
            fail("%s is missing: install the Debian package wamerican (scripts/setup)" % ENGLISH_WORDS)
    return _english


def in_language(lang, sentence):
    """Whether a sentence of a man page is text of the language (see ENGLISH_SHARE)."""
    if lang["script"] != "Latin":
        latin = len(LATIN.findall(sentence))
        other = sum(1 for c in sentence if c.isalpha()) - latin
        return other > latin
    if lang["code"] == "eng":
        return True
    words = WORD.findall(sentence.lower())
    if len(words) < 3:
        return True
    eng = sum(1 for w in words if w in english_words())
    return eng < ENGLISH_SHARE * len(words)


def man_passages(lang, pkg):
    lst = "/var/lib/dpkg/info/%s.list" % pkg
    if not os.path.exists(lst):
        fail("the Debian package %s is not installed (scripts/setup installs it)" % pkg)
    files = sorted(l.strip() for l in open(lst, encoding="utf-8")
                   if "/man/" in l and re.search(r"\.\d\w*(\.gz)?$", l.strip()))
    trained = training_messages(lang)
    used = set()  # each sentence once per language (boilerplate repeats across pages)
    out = []
    for f in files:
        if not os.path.isfile(f) or os.path.islink(f):
            continue
        english = english_lines(f)
        chunks = []
        for para in man_paragraphs(f):
            keep = []
            for x in SENTENCE_END.split(" ".join(para)):
                n = norm(x)
                if n and n not in english and n not in trained and n not in used and \
                        in_language(lang, x):
                    used.add(n)
                    keep.append(x)
            if keep:
                chunks.append(" ".join(keep))
        out += [(pkg + ":" + f, p) for p in passages_of(chunks)]
    return out


_trained = {}


def catalog_passages(lang, pkg, path):
    english = lang["code"] == "eng"
    seen, chunks = set(), []
    # A langpack repeats some strings across its files: a held-out message
    # equal to a sentence trained on is dropped (as for man pages).
    firefox = path.endswith((".ftl", ".properties"))
    if firefox and id(lang) not in _trained:
        _trained[id(lang)] = {norm(x) for x in training_messages(lang)}
    trained = _trained.get(id(lang), set())
    for mid, mstr in read_mo(path, pkg):
        if not english and mid == mstr:
            continue  # untranslated
        if firefox and norm(" ".join(clean_message(mstr).split())) in trained:
            continue
        t = " ".join(clean_message(mid if english else mstr).split())
        if t and t not in seen:
            seen.add(t)
            chunks.append(t)
    return [(pkg + ":" + path, p) for p in passages_of(chunks)]


def main():
    if len(sys.argv) != 3:
        fail("usage: lang_heldout.py SOURCES OUT.tsv")
    rows = []
    for lang in read_sources(sys.argv[1]):
        found = []
        for pkg in lang["man"]:
            found += man_passages(lang, pkg)
        for pkg, path in lang["test"]:
            found += catalog_passages(lang, pkg, path)
        if not found:
            fail("no held-out text for %s (%s)" % (lang["code"], lang["script"]))
        for src, text in pick(found):
            text = text.replace("\t", " ")
            rows.append("%s\t%s\t%s\t%s" % (lang["code"], lang["script"], src, text))
    with open(sys.argv[2], "w", encoding="utf-8") as o:
        o.write("\n".join(rows) + "\n")


main()
