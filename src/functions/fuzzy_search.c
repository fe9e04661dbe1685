/* fuzzy_search.c -- the fuzzy-search function: scores every line of a text
 * by the best Jaro-Winkler similarity between a term and one of the line's
 * words, and answers the lines that reach a threshold, best first.
 *
 * Lines end at '\n' (a '\r' before it is dropped; a final '\n' does not
 * start another line); words are runs of bytes other than ASCII white space
 * (space, \t, \v, \f, \r). Term and words are compared as Unicode code
 * points decoded from UTF-8 with simple case folding (fuzzy.h). Work buffers
 * grow to the longest word seen and are reused, so scanning allocates
 * nothing per word. A word is skipped without scoring when even a perfect
 * alignment of its length with the term could not reach the threshold or
 * beat the line's best word; the bound is loose by a margin far above
 * rounding error, so skipping never changes a result. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzy.h"
#include "lumos.h"

#define MAX_TERM_CHARS 256
#define MAX_LIMIT 100000u
#define DEFAULT_LIMIT 100u
/* Far above the rounding error of the score arithmetic (about 1e-16) and far
 * below any difference between two scores of different (m, t, l). */
#define BOUND_MARGIN 1e-9

/* ---- UTF-8 and case folding ---------------------------------------------- */

uint32_t lm_fuzzy_fold(uint32_t c) {
    if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    if (c < 0x100) {
        if (c == 0xB5) return 0x3BC; /* micro sign folds to Greek mu */
        if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
        return c;
    }
    if (c < 0x180) {
        /* Latin Extended-A pairs capital and small letter as even/odd
         * neighbours, except where the order shifts by one after U+0138. */
        if (c <= 0x12F || (c >= 0x132 && c <= 0x137) || (c >= 0x14A && c <= 0x177))
            return (c & 1) ? c : c + 1;
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c + 1 : c;
        if (c == 0x178) return 0xFF;
        if (c == 0x17F) return 's';
        return c; /* U+0130, U+0131, U+0138, U+0149 have no simple folding */
    }
    if (c >= 0x386 && c <= 0x3AB) {
        if (c == 0x386) return 0x3AC;
        if (c >= 0x388 && c <= 0x38A) return c + 37;
        if (c == 0x38C) return 0x3CC;
        if (c == 0x38E || c == 0x38F) return c + 63;
        if (c >= 0x391 && c != 0x3A2) return c + 32;
        return c;
    }
    if (c == 0x3C2) return 0x3C3; /* final sigma */
    if (c >= 0x400 && c <= 0x40F) return c + 80;
    if (c >= 0x410 && c <= 0x42F) return c + 32;
    return c;
}

size_t lm_fuzzy_decode(const uint8_t *s, size_t n, uint32_t *out) {
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        uint32_t c;
        i += lm_utf8_next(s + i, n - i, &c);
        out[k++] = lm_fuzzy_fold(c);
    }
    return k;
}

/* ---- Jaro-Winkler -------------------------------------------------------- */

static size_t common_prefix(const uint32_t *a, size_t na, const uint32_t *b, size_t nb) {
    size_t l = 0;
    while (l < 4 && l < na && l < nb && a[l] == b[l])
        l++;
    return l;
}

/* The score for m matches, t half-transpositions, lengths na and nb (both
 * non-zero, m > 0) and common prefix l. The one expression is used both for
 * real scores and for bounds, so a bound is computed the same way. */
static double jw_formula(size_t m, size_t t, size_t na, size_t nb, size_t l) {
    double dm = (double)m;
    double j = (dm / (double)na + dm / (double)nb + (dm - (double)t) / dm) / 3.0;
    if (j > 0.7) j = j + (double)l * 0.1 * (1.0 - j);
    return j;
}

/* Jaro-Winkler with caller-provided flag arrays fa[na] and fb[nb]. The match
 * search looks only inside the window around each position of a, so it
 * costs na * min(nb, 2 * window + 1) steps. */
static double jw_with(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, uint8_t *fa,
                      uint8_t *fb) {
    if (na == 0 && nb == 0) return 1.0;
    if (na == 0 || nb == 0) return 0.0;
    size_t longer = na > nb ? na : nb;
    size_t window = longer / 2 > 0 ? longer / 2 - 1 : 0;
    memset(fa, 0, na);
    memset(fb, 0, nb);
    size_t m = 0;
    for (size_t i = 0; i < na; i++) {
        size_t lo = i > window ? i - window : 0;
        size_t hi = i + window + 1 < nb ? i + window + 1 : nb;
        for (size_t j = lo; j < hi; j++) {
            if (!fb[j] && a[i] == b[j]) {
                fa[i] = fb[j] = 1;
                m++;
                break;
            }
        }
    }
    if (m == 0) return 0.0;
    size_t t = 0, k = 0;
    for (size_t i = 0; i < na; i++) {
        if (!fa[i]) continue;
        while (!fb[k])
            k++;
        if (a[i] != b[k]) t++;
        k++;
    }
    return jw_formula(m, t / 2, na, nb, common_prefix(a, na, b, nb));
}

double lm_jaro_winkler(const uint32_t *a, size_t na, const uint32_t *b, size_t nb) {
    uint8_t stack[512];
    uint8_t *flags = stack;
    if (na + nb > sizeof(stack)) {
        flags = malloc(na + nb);
        if (!flags) return -1.0;
    }
    double r = jw_with(a, na, b, nb, flags, flags + na);
    if (flags != stack) free(flags);
    return r;
}

/* The highest score a word of nb code points with common prefix l could
 * reach against a term of na: every character of the shorter one matched,
 * in order. */
static double jw_bound(size_t na, size_t nb, size_t l) {
    size_t m = na < nb ? na : nb;
    return jw_formula(m, 0, na, nb, l);
}

/* ---- the search ---------------------------------------------------------- */

typedef struct {
    uint64_t line;
    size_t off, len; /* the line's bytes in the text, '\r' stripped */
    double score;
} match;

/* Growable buffers reused across words, lines and matches. */
typedef struct {
    uint32_t *cps; /* the current word, decoded */
    uint8_t *flags;
    size_t word_cap; /* capacity of both, in elements */
    match *matches;
    size_t nmatches, match_cap;
    char *out; /* one line, made valid UTF-8 for the reply */
    size_t out_cap;
} work;

static void work_free(work *w) {
    free(w->cps);
    free(w->flags);
    free(w->matches);
    free(w->out);
}

static int grow_word(work *w, size_t n) {
    if (n <= w->word_cap) return LM_OK;
    size_t cap = w->word_cap ? w->word_cap : 64;
    while (cap < n)
        cap *= 2;
    uint32_t *c = realloc(w->cps, cap * sizeof(*c));
    if (!c) return LM_ERR;
    w->cps = c;
    uint8_t *f = realloc(w->flags, cap);
    if (!f) return LM_ERR;
    w->flags = f;
    w->word_cap = cap;
    return LM_OK;
}

static int add_match(work *w, const match *m) {
    if (w->nmatches == w->match_cap) {
        size_t cap = w->match_cap ? w->match_cap * 2 : 256;
        match *p = realloc(w->matches, cap * sizeof(*p));
        if (!p) return LM_ERR;
        w->matches = p;
        w->match_cap = cap;
    }
    w->matches[w->nmatches++] = *m;
    return LM_OK;
}

static int is_space(uint8_t c) {
    return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

/* Sets *best_out to the best score of any word of line[0..n) against the
 * term, or to -1 when the line has no word that could reach the threshold.
 * Returns LM_OK, or LM_ERR when out of memory. */
static int score_line(work *w, const uint32_t *term, size_t nterm, uint8_t *term_flags,
                      const uint8_t *line, size_t n, double threshold, double *best_out) {
    double best = -1.0;
    size_t i = 0;
    while (i < n && best < 1.0) {
        while (i < n && is_space(line[i]))
            i++;
        size_t start = i;
        while (i < n && !is_space(line[i]))
            i++;
        if (i == start) break;
        if (grow_word(w, i - start) != LM_OK) return LM_ERR;
        size_t nw = lm_fuzzy_decode(line + start, i - start, w->cps);
        double bound = jw_bound(nterm, nw, common_prefix(term, nterm, w->cps, nw));
        if (bound + BOUND_MARGIN < threshold || bound + BOUND_MARGIN <= best) continue;
        double s = jw_with(term, nterm, w->cps, nw, term_flags, w->flags);
        if (s > best) best = s;
    }
    *best_out = best;
    return LM_OK;
}

static int cmp_match(const void *pa, const void *pb) {
    const match *a = pa, *b = pb;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return a->line < b->line ? -1 : a->line > b->line;
}

/* Writes line[0..n) as a JSON string, each byte of invalid UTF-8 replaced by
 * U+FFFD so that the reply stays valid JSON. */
static int write_line(lm_jw *data, work *w, const uint8_t *line, size_t n) {
    if (n > (SIZE_MAX - 1) / 3) return LM_ERR;
    if (w->out_cap < 3 * n + 1) {
        char *p = realloc(w->out, 3 * n + 1);
        if (!p) return LM_ERR;
        w->out = p;
        w->out_cap = 3 * n + 1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        uint32_t c;
        size_t len = lm_utf8_next(line + i, n - i, &c);
        if (c == LM_UTF8_REPLACEMENT && len == 1) {
            memcpy(w->out + k, "\xEF\xBF\xBD", 3);
            k += 3;
        } else {
            memcpy(w->out + k, line + i, len);
            k += len;
        }
        i += len;
    }
    lm_jw_strn(data, w->out, k);
    return LM_OK;
}

static int handler(lm_ctx *ctx, const lm_json *req, lm_jw *data) {
    const char *term_s, *key = NULL;
    size_t term_len;
    double threshold;
    uint64_t limit;
    lm_storage where;
    if (lm_arg_str(ctx, req, "term", 1, NULL, &term_s, &term_len) != LM_OK ||
        lm_arg_double(ctx, req, "threshold", 0, 0.8, 0.0, 1.0, &threshold) != LM_OK ||
        lm_arg_u64(ctx, req, "limit", 0, DEFAULT_LIMIT, 0, MAX_LIMIT, &limit) != LM_OK ||
        lm_arg_storage(ctx, req, &where) != LM_OK)
        return LM_ERR;
    if (term_len == 0 || term_len > 4 * MAX_TERM_CHARS)
        return lm_fail(ctx, 400, "bad_request",
                       "field 'term' must be a string of 1 to %d characters", MAX_TERM_CHARS);
    uint32_t term[4 * MAX_TERM_CHARS];
    size_t nterm = lm_fuzzy_decode((const uint8_t *)term_s, term_len, term);
    if (nterm > MAX_TERM_CHARS)
        return lm_fail(ctx, 400, "bad_request",
                       "field 'term' has %u characters; at most %d are allowed", (unsigned)nterm,
                       MAX_TERM_CHARS);

    const uint8_t *text;
    size_t text_len;
    if (where == LM_STORAGE_INLINE) {
        const char *t;
        if (lm_arg_str(ctx, req, "text", 1, NULL, &t, &text_len) != LM_OK) return LM_ERR;
        text = (const uint8_t *)t;
    } else {
        if (lm_arg_str(ctx, req, "input_key", 1, NULL, &key, NULL) != LM_OK ||
            lm_storage_get(ctx, where, key, &text, &text_len) != LM_OK)
            return LM_ERR;
    }

    lm_phase(ctx, LM_PHASE_COMPUTE);
    work w = {0};
    uint8_t term_flags[MAX_TERM_CHARS];
    uint64_t lines = 0;
    int rc = LM_OK;
    for (size_t pos = 0; pos < text_len;) {
        const uint8_t *nl = memchr(text + pos, '\n', text_len - pos);
        size_t end = nl ? (size_t)(nl - text) : text_len;
        size_t len = end - pos;
        if (len > 0 && text[end - 1] == '\r') len--;
        lines++;
        double best;
        if (score_line(&w, term, nterm, term_flags, text + pos, len, threshold, &best) != LM_OK) {
            rc = lm_fail(ctx, 500, "internal", "out of memory");
            goto done;
        }
        match m = {lines, pos, len, best};
        if (best >= threshold && add_match(&w, &m) != LM_OK) {
            rc = lm_fail(ctx, 500, "internal", "out of memory");
            goto done;
        }
        pos = end + 1;
    }
    if (w.nmatches > 1) qsort(w.matches, w.nmatches, sizeof(match), cmp_match);

    lm_phase(ctx, LM_PHASE_SER);
    lm_jw_key(data, "lines_scanned");
    lm_jw_u64(data, lines);
    lm_jw_key(data, "matches");
    lm_jw_u64(data, w.nmatches);
    lm_jw_key(data, "results");
    lm_jw_arr_begin(data);
    for (size_t i = 0; i < w.nmatches && i < limit; i++) {
        const match *m = &w.matches[i];
        lm_jw_obj_begin(data);
        lm_jw_key(data, "line");
        lm_jw_u64(data, m->line);
        lm_jw_key(data, "score");
        lm_jw_fixed(data, m->score, 6);
        lm_jw_key(data, "text");
        if (write_line(data, &w, text + m->off, m->len) != LM_OK) {
            rc = lm_fail(ctx, 500, "internal", "out of memory");
            goto done;
        }
        lm_jw_obj_end(data);
    }
    lm_jw_arr_end(data);
    if (data->err) rc = lm_fail(ctx, 500, "internal", "out of memory writing the reply");
done:
    work_free(&w);
    return rc;
}

LM_FUNCTION(lm_fn_fuzzy_search, "fuzzy-search", handler)
