/* language_detection.c -- the language-detection function: names the language
 * of a text by its script and, for Latin and Cyrillic text, by comparing the
 * text's letter trigrams with per-language profiles built from Debian's word
 * lists (lang_profiles.h describes the text model and the profiles).
 *
 * Phases: decoding the whole text from UTF-8 into code points is deser; the
 * script count, the text's trigram table and the scoring are compute; the
 * reply is ser. Every byte of the text is read.
 *
 * Scoring is naive Bayes over trigrams: a language's score is the sum, over
 * all trigrams of the text, of the trigram's cost in that language (-log2 of
 * its relative frequency, quantized; a fixed penalty where the language's
 * profile lacks it). The lowest score wins; ties go to the language listed
 * first. The text's trigrams are counted once in an open-addressing hash
 * table, so each distinct trigram is looked up in the profiles once; the work
 * is linear in the text with no allocation per trigram.
 *
 * Close groups (lang_profiles.h: hrv/srp/bos, ind/msa, glg/por/spa): when
 * the best language is in one, its members are compared again, each on
 * GROUP_WORD_WEIGHT times its cost of the group's discriminative words found
 * in the text plus its trigram score; the best of that wins, and its margin
 * over the second member is the margin below. Texts with none of the group's
 * words keep the trigram answer.
 *
 * Confidence (0..1): for a profiled script, share * m / (m + 16), where m is
 * the margin in bits between the best and the second-best score and share is
 * the fraction of the text's letters that are in the chosen script; a margin
 * of 16 bits gives 0.5, large texts approach 1. For a script that names one
 * language by itself (Greek, Hebrew, Hangul...) the confidence is the share.
 * "und" answers have confidence 0. All of it is integer arithmetic and single
 * IEEE divisions, so native and Wasm builds print the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lang_profiles.h"
#include "lumos.h"

/* Largest text accepted: decoding needs four bytes per code point. */
#define MAX_TEXT_BYTES (64u << 20)
#define CANDIDATES 3
/* Margin (in bits) at which the margin factor of the confidence is 0.5. */
#define MARGIN_HALF_BITS 16u
#define COST_UNIT 16u /* profile costs are in 1/16 bit */
/* Weight of the word stage against the trigrams (tuned on the held-out set:
 * 3 gave lower accuracy on every group, 16 the same as 8). */
#define GROUP_WORD_WEIGHT 8u

static const char *const script_names[LM_SCRIPT_COUNT] = {
    "none",       "Latin", "Cyrillic", "Greek",  "Armenian", "Hebrew", "Arabic",
    "Devanagari", "Thai",  "Georgian", "Hangul", "Kana",     "Han"};

/* An answer is "und" (with the candidates) when the chosen script has fewer
 * letters than this, when fewer than UND_SHARE_PERCENT of the letters are in
 * it (mixed text), or when a profiled script's confidence is below
 * UND_CONFIDENCE: a short or mixed text gets no confident wrong guess. */
#define UND_MIN_LETTERS 4u
#define UND_SHARE_PERCENT 60u
#define UND_CONFIDENCE 0.1

/* ---- the text's trigram counts ------------------------------------------- */

/* Open addressing with linear probing; key 0 marks an empty slot (a real key
 * has a letter in the middle, so it is never 0). */
typedef struct {
    uint32_t *keys;
    uint32_t *counts;
    uint32_t cap; /* a power of two */
    uint32_t n;
} tri_table;

static uint32_t tri_slot(uint32_t key, uint32_t mask) {
    return (uint32_t)((key * 2654435761u) >> 8) & mask;
}

static int tri_init(tri_table *t, uint32_t cap) {
    t->keys = calloc(cap, sizeof(uint32_t));
    t->counts = calloc(cap, sizeof(uint32_t));
    t->cap = cap;
    t->n = 0;
    return (t->keys && t->counts) ? LM_OK : LM_ERR;
}

static void tri_free(tri_table *t) {
    free(t->keys);
    free(t->counts);
    t->keys = t->counts = NULL;
}

static int tri_grow(tri_table *t) {
    tri_table g = {0};
    if (t->cap > (UINT32_MAX >> 1) || tri_init(&g, t->cap * 2) != LM_OK) {
        tri_free(&g);
        return LM_ERR;
    }
    uint32_t mask = g.cap - 1;
    for (uint32_t i = 0; i < t->cap; i++) {
        if (!t->keys[i]) continue;
        uint32_t j = tri_slot(t->keys[i], mask);
        while (g.keys[j])
            j = (j + 1) & mask;
        g.keys[j] = t->keys[i];
        g.counts[j] = t->counts[i];
    }
    g.n = t->n;
    tri_free(t);
    *t = g;
    return LM_OK;
}

static int tri_add(tri_table *t, uint32_t key) {
    uint32_t mask = t->cap - 1, j = tri_slot(key, mask);
    while (t->keys[j] && t->keys[j] != key)
        j = (j + 1) & mask;
    if (t->keys[j]) {
        t->counts[j]++;
        return LM_OK;
    }
    t->keys[j] = key;
    t->counts[j] = 1;
    /* Keep the load at or below one half so probes stay short. */
    if (++t->n * 2 > t->cap) return tri_grow(t);
    return LM_OK;
}

/* ---- analysis ------------------------------------------------------------ */

typedef struct {
    uint64_t letters[LM_SCRIPT_COUNT];
    uint64_t total_letters;
    uint64_t trigrams;          /* scored trigrams (profiled script only) */
    const lm_lang_table *table; /* NULL unless the chosen script has profiles */
    uint64_t score[LM_LANG_MAX_PER_TABLE];
    uint8_t order[LM_LANG_MAX_PER_TABLE]; /* table positions, best first */
} analysis;

static uint32_t symbol_of(uint32_t cp) {
    cp = lm_lang_lower(cp);
    return cp < lm_lang_symbol_limit ? lm_lang_symbol[cp] : lm_lang_alphabet_size;
}

/* Counts the text's trigrams into t; trigrams with a letter outside the
 * profiles' alphabet can match no profile and are only counted in *foreign.
 * Returns LM_ERR when out of memory. */
static int count_trigrams(const uint32_t *cps, size_t n, tri_table *t, uint64_t *total,
                          uint64_t *foreign) {
    const uint32_t other = lm_lang_alphabet_size, radix = lm_lang_alphabet_size + 1;
    const uint32_t none = UINT32_MAX;
    uint32_t p2 = none, p1 = 0; /* the two symbols before the current one */
    int in_word = 0;
    for (size_t i = 0; i <= n; i++) {
        int cls = i < n ? lm_lang_class(cps[i]) : LM_SCRIPT_NONE;
        if (cls == LM_SCRIPT_MARK) continue;
        uint32_t s;
        if (cls != LM_SCRIPT_NONE) {
            s = symbol_of(cps[i]);
            if (!in_word) {
                in_word = 1;
                p2 = none;
                p1 = 0;
            }
        } else {
            if (!in_word) continue;
            in_word = 0;
            s = 0; /* the padding space closes the word */
        }
        if (p2 != none) {
            (*total)++;
            if (p2 == other || p1 == other || s == other) {
                (*foreign)++;
            } else if (tri_add(t, (p2 * radix + p1) * radix + s) != LM_OK) {
                return LM_ERR;
            }
        }
        p2 = p1;
        p1 = s;
    }
    return LM_OK;
}

/* The index of key in the sorted keys[0..n), or -1. */
static int64_t find_sorted(const uint32_t *keys, uint32_t n, uint32_t key) {
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (keys[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (lo < n && keys[lo] == key) ? (int64_t)lo : -1;
}

/* The row of key in a profile table, or -1. */
static int64_t find_row(const lm_lang_table *tab, uint32_t key) {
    return find_sorted(tab->keys, tab->ntrigrams, key);
}

static int score_table(const uint32_t *cps, size_t n, analysis *a) {
    const lm_lang_table *tab = a->table;
    tri_table t;
    if (tri_init(&t, 1u << 12) != LM_OK) {
        tri_free(&t);
        return LM_ERR;
    }
    uint64_t foreign = 0;
    if (count_trigrams(cps, n, &t, &a->trigrams, &foreign) != LM_OK) {
        tri_free(&t);
        return LM_ERR;
    }
    const uint16_t *cost[LM_LANG_MAX_PER_TABLE];
    for (uint32_t j = 0; j < tab->nlang; j++) {
        cost[j] = lm_lang_profiles[tab->langs[j]].cost;
        a->score[j] = 0;
    }
    uint64_t absent = foreign;
    for (uint32_t i = 0; i < t.cap; i++) {
        if (!t.keys[i]) continue;
        int64_t row = find_row(tab, t.keys[i]);
        if (row < 0) {
            absent += t.counts[i];
            continue;
        }
        const uint8_t *lv = tab->levels + (size_t)row * tab->row_bytes;
        for (uint32_t j = 0; j < tab->nlang; j++) {
            unsigned code = (lv[j / 2] >> (4 * (j & 1))) & 0x0F;
            a->score[j] += (uint64_t)t.counts[i] * cost[j][code];
        }
    }
    for (uint32_t j = 0; j < tab->nlang; j++)
        a->score[j] += absent * cost[j][0];
    tri_free(&t);

    /* Insertion sort: at most LM_LANG_MAX_PER_TABLE entries, stable, so ties
     * keep table order. */
    for (uint32_t j = 0; j < tab->nlang; j++) {
        uint32_t k = j;
        while (k > 0 && a->score[a->order[k - 1]] > a->score[j]) {
            a->order[k] = a->order[k - 1];
            k--;
        }
        a->order[k] = (uint8_t)j;
    }
    return LM_OK;
}

/* ---- the close groups' word stage ---------------------------------------- */

/* The group whose members include profile index lang, or NULL. */
static const lm_lang_group *group_of(uint32_t lang) {
    for (unsigned g = 0; g < lm_lang_group_count; g++)
        for (uint32_t j = 0; j < lm_lang_groups[g].nlang; j++)
            if (lm_lang_groups[g].langs[j] == lang) return &lm_lang_groups[g];
    return NULL;
}

static int64_t find_word(const lm_lang_group *g, uint32_t h) {
    return find_sorted(g->hashes, g->nwords, h);
}

/* Scores the group's members on the text's words (the words of
 * lm_lang_next_word(), read from the code points): score[j] is the sum of
 * member j's costs of the group's words found; returns how many were found. */
static uint64_t score_group(const uint32_t *cps, size_t n, const lm_lang_group *g,
                            uint64_t score[LM_LANG_GROUP_MAX]) {
    uint8_t word[LM_LANG_WORD_BYTES];
    size_t nb = 0, len = 0;
    int script = LM_SCRIPT_NONE;
    uint64_t found = 0;
    for (uint32_t j = 0; j < g->nlang; j++)
        score[j] = 0;
    for (size_t i = 0; i <= n; i++) {
        int cls = i < n ? lm_lang_class(cps[i]) : LM_SCRIPT_NONE;
        if (cls == LM_SCRIPT_MARK) continue;
        if (cls != LM_SCRIPT_NONE) {
            if (len == 0) script = cls;
            if (cls != script) script = LM_SCRIPT_MARK;
            if (len < LM_LANG_MAX_WORD) nb += lm_utf8_put(lm_lang_lower(cps[i]), word + nb);
            len++;
            continue;
        }
        if (len == 0) continue;
        if (len <= LM_LANG_MAX_WORD && script == g->script_id) {
            int64_t row = find_word(g, lm_lang_fnv1a(word, nb));
            if (row >= 0) {
                found++;
                for (uint32_t j = 0; j < g->nlang; j++)
                    score[j] += g->costs[(size_t)row * g->nlang + j];
            }
        }
        len = nb = 0;
    }
    return found;
}

/* The dominant script: most letters, Han and Kana counted together (Japanese
 * mixes them). Ties go to the lower script number. */
static int dominant_script(const analysis *a) {
    int best = LM_SCRIPT_NONE;
    uint64_t best_n = 0;
    for (int s = LM_SCRIPT_NONE + 1; s < LM_SCRIPT_COUNT; s++) {
        if (s == LM_SCRIPT_KANA) continue;
        uint64_t n = a->letters[s];
        if (s == LM_SCRIPT_HAN) n += a->letters[LM_SCRIPT_KANA];
        if (n > best_n) {
            best = s;
            best_n = n;
        }
    }
    return best;
}

/* ---- the handler --------------------------------------------------------- */

static void write_answer(lm_jw *data, const char *code, const char *name, const char *script,
                         double confidence) {
    lm_jw_key(data, "language");
    lm_jw_str(data, code);
    lm_jw_key(data, "name");
    lm_jw_str(data, name);
    lm_jw_key(data, "script");
    lm_jw_str(data, script);
    lm_jw_key(data, "confidence");
    lm_jw_fixed(data, confidence, 4);
}

static int handler(lm_ctx *ctx, const lm_json *req, lm_jw *data) {
    lm_storage where;
    const char *text, *input_key;
    size_t n = 0;
    if (lm_arg_storage(ctx, req, &where) != LM_OK) return LM_ERR;
    if (lm_arg_str(ctx, req, "text", 0, NULL, &text, &n) != LM_OK ||
        lm_arg_str(ctx, req, "input_key", 0, NULL, &input_key, NULL) != LM_OK)
        return LM_ERR;
    if (text && input_key)
        return lm_fail(ctx, 400, "bad_request", "give either 'text' or 'input_key', not both");
    if (!text && !input_key)
        return lm_fail(ctx, 400, "bad_request",
                       "missing field: 'text' (the text itself) or 'input_key' (a stored text) "
                       "is required");
    if (where == LM_STORAGE_INLINE && input_key)
        return lm_fail(ctx, 400, "bad_request",
                       "storage \"inline\" takes 'text'; use storage \"redis\" or \"file\" with "
                       "'input_key'");

    const uint8_t *bytes = (const uint8_t *)text;
    if (input_key && lm_storage_get(ctx, where, input_key, &bytes, &n) != LM_OK) return LM_ERR;
    if (n > MAX_TEXT_BYTES)
        return lm_fail(ctx, 400, "bad_request", "the text has %zu bytes; at most %u are allowed", n,
                       MAX_TEXT_BYTES);

    /* Deser: the whole text as code points; bytes that start no valid UTF-8
     * sequence become U+FFFD (a separator) and are counted. */
    uint32_t *cps = lm_scratch(ctx, (n ? n : 1) * sizeof(uint32_t));
    if (!cps) return lm_fail(ctx, 500, "internal", "out of memory decoding %zu bytes", n);
    size_t ncp = 0;
    uint64_t invalid = 0;
    for (size_t i = 0; i < n;) {
        size_t k = lm_utf8_next(bytes + i, n - i, &cps[ncp]);
        invalid += (k == 1 && bytes[i] >= 0x80);
        i += k;
        ncp++;
    }

    lm_phase(ctx, LM_PHASE_COMPUTE);
    analysis a;
    memset(&a, 0, sizeof(a));
    for (size_t i = 0; i < ncp; i++) {
        int cls = lm_lang_class(cps[i]);
        if (cls != LM_SCRIPT_NONE && cls != LM_SCRIPT_MARK) a.letters[cls]++;
    }
    for (int s = 0; s < LM_SCRIPT_COUNT; s++)
        a.total_letters += a.letters[s];
    int script = dominant_script(&a);
    for (unsigned t = 0; t < lm_lang_table_count; t++)
        if (lm_lang_tables[t].script_id == script) a.table = &lm_lang_tables[t];
    if (a.table && score_table(cps, ncp, &a) != LM_OK)
        return lm_fail(ctx, 500, "internal", "out of memory counting trigrams");

    lm_phase(ctx, LM_PHASE_SER);
    uint64_t in_script = a.letters[script];
    if (script == LM_SCRIPT_HAN) in_script += a.letters[LM_SCRIPT_KANA];
    double share = a.total_letters ? (double)in_script / (double)a.total_letters : 0.0;
    const char *sname = script_names[script];
    int settled =
        in_script >= UND_MIN_LETTERS && in_script * 100 >= a.total_letters * UND_SHARE_PERCENT;
    if (a.table) {
        const lm_lang_table *tab = a.table;
        const lm_lang_profile *best = &lm_lang_profiles[tab->langs[a.order[0]]];
        uint64_t d = a.score[a.order[1]] - a.score[a.order[0]];
        /* A close group's member is decided among the group on its words;
         * the confidence's margin is then the word stage's. */
        const lm_lang_group *g = group_of(tab->langs[a.order[0]]);
        uint64_t gs[LM_LANG_GROUP_MAX];
        if (g && score_group(cps, ncp, g, gs) > 0) {
            /* Each member's word cost plus its trigram score. */
            for (uint32_t j = 0; j < g->nlang; j++)
                for (uint32_t k = 0; k < tab->nlang; k++)
                    if (tab->langs[k] == g->langs[j])
                        gs[j] = gs[j] * GROUP_WORD_WEIGHT + a.score[k];
            uint32_t b1 = 0, b2 = 1;
            for (uint32_t j = 1; j < g->nlang; j++)
                if (gs[j] < gs[b1]) b1 = j;
            if (b2 == b1) b2 = 0;
            for (uint32_t j = 0; j < g->nlang; j++)
                if (j != b1 && gs[j] < gs[b2]) b2 = j;
            best = &lm_lang_profiles[g->langs[b1]];
            d = gs[b2] - gs[b1];
        }
        double margin = (double)d / (double)(d + (uint64_t)MARGIN_HALF_BITS * COST_UNIT);
        if (settled && share * margin >= UND_CONFIDENCE)
            write_answer(data, best->code, best->name, best->script, share * margin);
        else
            write_answer(data, "und", "Undetermined", sname, 0.0);
    } else {
        /* A script of one language names it. Han with a tenth or more of kana
         * is Japanese, Han alone Chinese. */
        int want = script;
        if (script == LM_SCRIPT_HAN && a.letters[LM_SCRIPT_KANA] * 10 >= in_script)
            want = LM_SCRIPT_KANA;
        const lm_lang_profile *p = NULL;
        for (unsigned i = 0; i < lm_lang_count && !p; i++)
            if (lm_lang_profiles[i].script_id == want) p = &lm_lang_profiles[i];
        if (p && settled)
            write_answer(data, p->code, p->name,
                         want == LM_SCRIPT_KANA &&
                                 a.letters[LM_SCRIPT_KANA] <= a.letters[LM_SCRIPT_HAN]
                             ? "Han"
                             : script_names[want],
                         share);
        else
            write_answer(data, "und", "Undetermined", sname, 0.0);
    }
    lm_jw_key(data, "bytes");
    lm_jw_u64(data, n);
    lm_jw_key(data, "letters");
    lm_jw_u64(data, a.total_letters);
    lm_jw_key(data, "trigrams");
    lm_jw_u64(data, a.trigrams);
    lm_jw_key(data, "invalid_bytes");
    lm_jw_u64(data, invalid);
    lm_jw_key(data, "candidates");
    lm_jw_arr_begin(data);
    if (a.table) {
        for (uint32_t k = 0; k < a.table->nlang && k < CANDIDATES; k++) {
            uint32_t j = a.order[k];
            lm_jw_obj_begin(data);
            lm_jw_key(data, "language");
            lm_jw_str(data, lm_lang_profiles[a.table->langs[j]].code);
            lm_jw_key(data, "bits_per_trigram");
            uint64_t units = a.trigrams ? a.trigrams * COST_UNIT : 1;
            lm_jw_fixed(data, (double)a.score[j] / (double)units, 4);
            lm_jw_obj_end(data);
        }
    }
    lm_jw_arr_end(data);
    return LM_OK;
}

LM_FUNCTION(lm_fn_language_detection, "language-detection", handler)
