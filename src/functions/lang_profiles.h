/* lang_profiles.h -- the contract of language detection: how text becomes
 * words and trigrams, and the profile tables that tools/lang_profiles_gen.c
 * writes at build time into build/gen/lang_profiles.c from the translated
 * message catalogs that tools/lang_sources.txt names.
 *
 * Users: the generator (a host program: it includes only this header), the
 * language-detection function (guest code) and its unit test. Everything
 * here links nothing but libc; the helpers are static inline so that each user
 * gets the same definition without linking anything.
 *
 * Text model, shared by training and detection:
 *   - Text is decoded as UTF-8 (a byte that does not start a valid sequence
 *     becomes U+FFFD, which is not a letter).
 *   - lm_lang_class() sorts each code point into a script (a letter), a
 *     combining mark (skipped: it neither breaks a word nor joins one) or a
 *     separator (everything else: space, digits, punctuation, apostrophes,
 *     hyphens, U+FFFD).
 *   - A word is a maximal run of letters, lowercased by lm_lang_lower().
 *   - The trigrams of a word w are those of " w " (padded with one space on
 *     each side): a word of n letters has n trigrams.
 *
 * Training (tools/lang_profiles_gen.c): the running text of a language is the
 * translations in its catalogs, less the held-out messages (see
 * tools/lang_catalog.h) and each distinct translation counted once; only words
 * written wholly in the language's script count. The generator keeps the
 * LM_LANG_TOP most frequent trigrams (ties by key), turns each one's relative
 * frequency p into a cost -log2(p) and quantizes that cost into one of 15
 * levels (codes 1..15); code 0 means "not among the language's top trigrams"
 * and costs LM_LANG_ABSENT_BITS more than the rarest kept trigram.
 * lm_lang_profile.cost maps codes to costs in 1/16 bit.
 *
 * Script-first dispatch: only the languages of the text's dominant script are
 * scored; a script written for one language only (Greek, Hebrew, Hangul...)
 * names it without scoring and has no table.
 *
 * Trigram keys: every code point that occurs in a kept trigram is a symbol
 * (lm_lang_alphabet; symbol 0 is the padding space). Any other letter maps to
 * the symbol lm_lang_alphabet_size ("other"), which is in no profile. A
 * trigram (a, b, c) has the key (a * R + b) * R + c with R =
 * lm_lang_alphabet_size + 1. */
#ifndef LM_LANG_PROFILES_H
#define LM_LANG_PROFILES_H

#include <stddef.h>
#include <stdint.h>

#include "text.h"

/* Trigrams kept per language: bounded, so the profiles stay compact. */
#define LM_LANG_TOP 3000
/* Level codes 0..15 (code 0: trigram not in the profile). */
#define LM_LANG_LEVELS 16
/* Extra cost of a trigram absent from a profile, in bits. */
#define LM_LANG_ABSENT_BITS 2
/* Most languages one profile table (script) may hold. */
#define LM_LANG_MAX_PER_TABLE 48
/* Words longer than this (in code points) are not used for training. */
#define LM_LANG_MAX_WORD 64

/* Scripts that lm_lang_class() recognises. LM_SCRIPT_NONE is a separator,
 * LM_SCRIPT_MARK a combining mark (skipped inside words). */
typedef enum {
    LM_SCRIPT_NONE = 0,
    LM_SCRIPT_LATIN,
    LM_SCRIPT_CYRILLIC,
    LM_SCRIPT_GREEK,
    LM_SCRIPT_ARMENIAN,
    LM_SCRIPT_HEBREW,
    LM_SCRIPT_ARABIC,
    LM_SCRIPT_DEVANAGARI,
    LM_SCRIPT_THAI,
    LM_SCRIPT_GEORGIAN,
    LM_SCRIPT_HANGUL,
    LM_SCRIPT_KANA,
    LM_SCRIPT_HAN,
    LM_SCRIPT_COUNT,
    LM_SCRIPT_MARK = 255
} lm_lang_script;

/* One language, as tools/lang_sources.txt lists it, with what the generator
 * measured. Languages of one-language scripts have no trigrams. */
typedef struct {
    const char *code;              /* ISO 639-3, e.g. "deu" */
    const char *name;              /* English name */
    const char *script;            /* "Latin", "Cyrillic", ... */
    uint8_t script_id;             /* lm_lang_script */
    const char *packages;          /* Debian packages of its catalogs, comma-separated */
    uint32_t catalogs;             /* catalogs read */
    uint32_t messages;             /* distinct translations trained on */
    uint32_t held_out;             /* translated messages held out of training */
    uint32_t letters;              /* letters of the training text in its script */
    uint32_t trigrams;             /* trigrams in the profile (at most LM_LANG_TOP) */
    uint16_t cost[LM_LANG_LEVELS]; /* cost of each level code, 1/16 bit */
} lm_lang_profile;

/* The profiles of one script: every trigram kept by any of its languages,
 * and each language's level code for it. */
typedef struct {
    uint8_t script_id;                    /* lm_lang_script */
    const char *script;                   /* "Latin" */
    uint32_t nlang;                       /* languages in this table */
    uint8_t langs[LM_LANG_MAX_PER_TABLE]; /* their indices in lm_lang_profiles */
    uint32_t ntrigrams;                   /* rows */
    uint32_t row_bytes;                   /* (nlang + 1) / 2 */
    const uint32_t *keys;                 /* ntrigrams keys, strictly ascending */
    const uint8_t *levels;                /* row i at levels + i * row_bytes; language j's code in
                                             byte j / 2, low nibble for even j */
} lm_lang_table;

extern const lm_lang_profile lm_lang_profiles[];
extern const unsigned lm_lang_count;
extern const lm_lang_table lm_lang_tables[];
extern const unsigned lm_lang_table_count;
/* Code point of each symbol, ascending; symbol 0 is U+0020. */
extern const uint32_t lm_lang_alphabet[];
extern const uint32_t lm_lang_alphabet_size;
/* Symbol of each code point below lm_lang_symbol_limit (lm_lang_alphabet_size
 * where the code point is no symbol); code points at or above the limit are
 * no symbol either. */
extern const uint16_t lm_lang_symbol[];
extern const uint32_t lm_lang_symbol_limit;

/* The second stage, for close groups of one script (Croatian, Serbian and
 * Bosnian in Latin script; Indonesian and Malay; Galician, Portuguese and
 * Spanish): when the trigram stage's best language is a member of a group,
 * the group's members are compared again on whole words. The generator
 * counts each member's words in its training catalogs of the domains every
 * member has (so the words tell languages apart, not domains), keeps per
 * member the words seen 3 times or more that are at least twice as frequent
 * as in the other members, the LM_LANG_GROUP_WORDS with the highest log-odds
 * times log2 of their count, and for each kept
 * word each member's cost: -log2 of its smoothed relative frequency in that
 * member's catalogs, in 1/16 bit, capped at LM_LANG_GROUP_CAP_BITS above the
 * cheapest member so one word cannot outvote a text. Words are
 * lm_lang_next_word()'s (lowercased UTF-8 of the group's script), found by
 * their FNV-1a 32. */
#define LM_LANG_GROUP_MAX 4
#define LM_LANG_GROUP_WORDS 800
#define LM_LANG_GROUP_CAP_BITS 6
typedef struct {
    uint8_t script_id;                /* lm_lang_script */
    uint32_t nlang;                   /* members */
    uint8_t langs[LM_LANG_GROUP_MAX]; /* their indices in lm_lang_profiles */
    uint32_t nwords;
    const uint32_t *hashes; /* nwords FNV-1a 32 of the words, strictly ascending */
    const uint16_t *costs;  /* word i's cost for member j at costs[i * nlang + j], 1/16 bit */
} lm_lang_group;

extern const lm_lang_group lm_lang_groups[];
extern const unsigned lm_lang_group_count;

/* ---- shared helpers ----------------------------------------------------- */

#define LM_LANG_REPLACEMENT LM_UTF8_REPLACEMENT

/* The script of a letter (lm_lang_script), LM_SCRIPT_MARK for a combining
 * mark, LM_SCRIPT_NONE for anything else. Both cases of a letter belong to
 * its script. Only the blocks listed here count as letters. */
static inline int lm_lang_class(uint32_t c) {
    if (c < 0x80)
        return ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ? LM_SCRIPT_LATIN : LM_SCRIPT_NONE;
    if (c < 0x250) /* Latin-1 Supplement, Latin Extended-A and -B */
        return (c >= 0xC0 && c != 0xD7 && c != 0xF7) ? LM_SCRIPT_LATIN : LM_SCRIPT_NONE;
    if (c >= 0x300 && c <= 0x36F) return LM_SCRIPT_MARK;
    if (c >= 0x370 && c <= 0x3FF) /* Greek letters, not its signs and punctuation */
        return (c == 0x386 || (c >= 0x388 && c <= 0x3FF && c != 0x3A2 && c != 0x3F6))
                   ? LM_SCRIPT_GREEK
                   : LM_SCRIPT_NONE;
    if (c >= 0x400 && c <= 0x52F) {
        if (c >= 0x483 && c <= 0x489) return LM_SCRIPT_MARK;
        return c == 0x482 ? LM_SCRIPT_NONE : LM_SCRIPT_CYRILLIC;
    }
    if ((c >= 0x531 && c <= 0x556) || (c >= 0x561 && c <= 0x587)) return LM_SCRIPT_ARMENIAN;
    if (c >= 0x591 && c <= 0x5C7) return LM_SCRIPT_MARK; /* Hebrew points */
    if ((c >= 0x5D0 && c <= 0x5EA) || (c >= 0x5F0 && c <= 0x5F2)) return LM_SCRIPT_HEBREW;
    if ((c >= 0x610 && c <= 0x61A) || (c >= 0x64B && c <= 0x65F) || c == 0x670)
        return LM_SCRIPT_MARK; /* Arabic vowel marks */
    if ((c >= 0x620 && c <= 0x64A) || (c >= 0x66E && c <= 0x6D3) || (c >= 0x6FA && c <= 0x6FF) ||
        (c >= 0x750 && c <= 0x77F))
        return LM_SCRIPT_ARABIC;
    /* Indic vowel signs are part of the letters' syllables: count them as
     * letters of the script; digits and dandas separate. */
    if (c >= 0x900 && c <= 0x97F)
        return (c >= 0x964 && c <= 0x970) ? LM_SCRIPT_NONE : LM_SCRIPT_DEVANAGARI;
    if ((c >= 0xE01 && c <= 0xE3A) || (c >= 0xE40 && c <= 0xE4E))
        return (c == 0xE3F || c == 0xE46 || c == 0xE4F) ? LM_SCRIPT_NONE : LM_SCRIPT_THAI;
    if ((c >= 0x10A0 && c <= 0x10FA) || (c >= 0x10FC && c <= 0x10FF) ||
        (c >= 0x1C90 && c <= 0x1CBF))
        return LM_SCRIPT_GEORGIAN;
    if ((c >= 0x1100 && c <= 0x11FF) || (c >= 0x3131 && c <= 0x318E) ||
        (c >= 0xAC00 && c <= 0xD7A3))
        return LM_SCRIPT_HANGUL;
    if (c >= 0x1E00 && c <= 0x1EFF) return LM_SCRIPT_LATIN; /* Latin Extended Additional */
    if (c >= 0x1F00 && c <= 0x1FFF) /* Greek Extended: letters, not the spacing accents */
        return (c == 0x1FBD || (c >= 0x1FBF && c <= 0x1FC1) || (c >= 0x1FCD && c <= 0x1FCF) ||
                (c >= 0x1FDD && c <= 0x1FDF) || (c >= 0x1FED && c <= 0x1FEF) || c >= 0x1FFD)
                   ? LM_SCRIPT_NONE
                   : LM_SCRIPT_GREEK;
    if (c >= 0x20D0 && c <= 0x20FF) return LM_SCRIPT_MARK;
    if ((c >= 0x3041 && c <= 0x3096) || (c >= 0x309D && c <= 0x309F) ||
        (c >= 0x30A1 && c <= 0x30FA) || (c >= 0x30FC && c <= 0x30FF) ||
        (c >= 0x31F0 && c <= 0x31FF))
        return LM_SCRIPT_KANA;
    if (c == 0x3099 || c == 0x309A) return LM_SCRIPT_MARK;
    if ((c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) ||
        (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x3134F))
        return LM_SCRIPT_HAN;
    if (c >= 0xFE20 && c <= 0xFE2F) return LM_SCRIPT_MARK;
    return LM_SCRIPT_NONE;
}

/* The lowercase form of a letter (simple one-to-one mapping for the Latin,
 * Greek, Cyrillic, Armenian and Georgian blocks that lm_lang_class() knows);
 * any other code point is returned unchanged. */
static inline uint32_t lm_lang_lower(uint32_t c) {
    if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    if (c < 0x100) return (c >= 0xC0 && c <= 0xDE && c != 0xD7) ? c + 32 : c;
    if (c < 0x180) {
        /* Latin Extended-A pairs capital and small letter as even/odd
         * neighbours, shifted by one between U+0139 and U+0148 and from
         * U+0179 on. */
        if (c == 0x130) return 'i';
        if (c <= 0x137 && c != 0x131) return (c & 1) ? c : c + 1;
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c + 1 : c;
        if (c >= 0x14A && c <= 0x177) return (c & 1) ? c : c + 1;
        if (c == 0x178) return 0xFF;
        return c;
    }
    if (c >= 0x218 && c <= 0x21B) return (c & 1) ? c : c + 1; /* Romanian S and T comma */
    if (c >= 0x386 && c <= 0x3AB) {
        if (c == 0x386) return 0x3AC;
        if (c >= 0x388 && c <= 0x38A) return c + 37;
        if (c == 0x38C) return 0x3CC;
        if (c == 0x38E || c == 0x38F) return c + 63;
        if (c >= 0x391 && c != 0x3A2) return c + 32;
        return c;
    }
    if (c >= 0x400 && c <= 0x40F) return c + 80;
    if (c >= 0x410 && c <= 0x42F) return c + 32;
    if ((c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF) || (c >= 0x4D0 && c <= 0x52F))
        return (c & 1) ? c : c + 1;
    if (c == 0x4C0) return 0x4CF;
    if (c >= 0x4C1 && c <= 0x4CE) return (c & 1) ? c + 1 : c;
    if (c >= 0x531 && c <= 0x556) return c + 48;
    if (c >= 0x1C90 && c <= 0x1CBF && c != 0x1CBB && c != 0x1CBC)
        return c - 0x0BC0; /* Georgian Mtavruli */
    if (c >= 0x1E00 && c <= 0x1EFF) {
        if (c == 0x1E9E) return 0xDF; /* capital sharp s */
        if (c >= 0x1E96 && c <= 0x1E9F) return c;
        return (c & 1) ? c : c + 1;
    }
    return c;
}

/* Room for one word's UTF-8 bytes in lm_lang_next_word(). */
#define LM_LANG_WORD_BYTES (LM_LANG_MAX_WORD * 4)

/* Reads the next word from s[*pos..n) (any UTF-8 text): skips separators, then takes the letters of
 * one word, lowercased, skipping combining marks. Writes at most the first LM_LANG_MAX_WORD code
 * points as UTF-8 into word and their byte count into *bytes, advances *pos,
 * and returns the word's full length in code points: more than
 * LM_LANG_MAX_WORD means the word was cut (the generator skips such words).
 * *script gets the word's script, or LM_SCRIPT_MARK when its letters are of
 * several scripts. Returns 0 at the end of the input. */
static inline size_t lm_lang_next_word(const uint8_t *s, size_t n, size_t *pos,
                                       uint8_t word[LM_LANG_WORD_BYTES], size_t *bytes,
                                       int *script) {
    size_t i = *pos, len = 0, nb = 0;
    while (i < n) {
        uint32_t cp;
        i += lm_utf8_next(s + i, n - i, &cp);
        int cls = lm_lang_class(cp);
        if (cls == LM_SCRIPT_MARK) continue;
        if (cls == LM_SCRIPT_NONE) {
            if (len > 0) break;
            continue;
        }
        if (len == 0) *script = cls;
        if (cls != *script) *script = LM_SCRIPT_MARK; /* a word of mixed scripts */
        if (len < LM_LANG_MAX_WORD) nb += lm_utf8_put(lm_lang_lower(cp), word + nb);
        len++;
    }
    *pos = i;
    *bytes = nb;
    return len;
}

/* 32-bit FNV-1a of n bytes. */
static inline uint32_t lm_lang_fnv1a(const uint8_t *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 16777619u;
    }
    return h;
}

#endif
