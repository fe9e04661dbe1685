/* test_fuzzy.c -- unit tests of the fuzzy-search function: Jaro-Winkler on
 * published pairs checked as exact fractions, case folding, planted terms,
 * a brute-force oracle for whole searches, limits, line handling, invalid
 * UTF-8 and bad input. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "fuzzy.h"
#include "invoke.h"
#include "lumos.h"

extern const lm_function lm_fn_fuzzy_search;

/* ---- helpers ------------------------------------------------------------ */

/* Decodes and folds a NUL-terminated UTF-8 string (the function's own
 * decoder; its folding is tested separately). Returns a malloc'd array. */
static uint32_t *cps(const char *s, size_t *n) {
    size_t len = strlen(s);
    uint32_t *out = malloc((len + 1) * sizeof(uint32_t));
    *n = lm_fuzzy_decode((const uint8_t *)s, len, out);
    return out;
}

static double jw_str(const char *a, const char *b) {
    size_t na, nb;
    uint32_t *ca = cps(a, &na), *cb = cps(b, &nb);
    double r = lm_jaro_winkler(ca, na, cb, nb);
    free(ca);
    free(cb);
    return r;
}

/* Invokes the function with a request built by jansson (so any text is
 * escaped correctly) and returns the parsed reply; *status gets the HTTP
 * status. The caller frees the result with json_decref(). */
static json_t *invoke(json_t *req, lm_test_store *store, int *status) {
    char *body = json_dumps(req, JSON_COMPACT);
    assert_non_null(body);
    lm_test_reply r;
    *status = lm_test_invoke(&lm_fn_fuzzy_search, body, store, &r);
    json_error_t err;
    json_t *reply = json_loadb(r.body, r.body_len, JSON_ALLOW_NUL, &err);
    if (!reply) fprintf(stderr, "reply is not JSON (%s): %s\n", err.text, r.body);
    assert_non_null(reply);
    free(body);
    lm_test_reply_free(&r);
    json_decref(req);
    return reply;
}

/* Invokes and expects success; returns the reply's "data" (owned by *reply). */
static json_t *invoke_ok(json_t *req, lm_test_store *store, json_t **reply) {
    int status;
    *reply = invoke(req, store, &status);
    if (status != 200) {
        char *s = json_dumps(*reply, 0);
        fprintf(stderr, "unexpected reply: %s\n", s);
        free(s);
    }
    assert_int_equal(status, 200);
    json_t *data = json_object_get(*reply, "data");
    assert_non_null(data);
    return data;
}

static void expect_error(json_t *req, lm_test_store *store, int want_status, const char *code,
                         const char *field) {
    int status;
    json_t *reply = invoke(req, store, &status);
    assert_int_equal(status, want_status);
    assert_string_equal(json_string_value(json_object_get(reply, "status")), "error");
    assert_string_equal(json_string_value(json_object_get(reply, "error")), code);
    const char *msg = json_string_value(json_object_get(reply, "message"));
    assert_non_null(msg);
    if (!strstr(msg, field)) fprintf(stderr, "message '%s' does not name %s\n", msg, field);
    assert_non_null(strstr(msg, field));
    json_decref(reply);
}

/* ---- Jaro-Winkler known answers ----------------------------------------- */

/* An independent textbook evaluation on ASCII strings that returns the
 * counts: m matches, t half-transpositions (rounded down), l common prefix
 * up to 4. The score is then formed as an exact fraction. */
static void jw_counts(const char *a, const char *b, uint64_t *m, uint64_t *t, uint64_t *l) {
    size_t na = strlen(a), nb = strlen(b);
    size_t longer = na > nb ? na : nb;
    long window = (long)longer / 2 - 1;
    if (window < 0) window = 0;
    char used[64] = {0};
    char ma[64], mb[64];
    size_t k = 0;
    for (size_t i = 0; i < na; i++) {
        for (size_t j = 0; j < nb; j++) {
            if (!used[j] && a[i] == b[j] && labs((long)i - (long)j) <= window) {
                used[j] = 1;
                ma[k++] = a[i];
                break;
            }
        }
    }
    size_t k2 = 0;
    for (size_t j = 0; j < nb; j++)
        if (used[j]) mb[k2++] = b[j];
    assert_int_equal(k, k2);
    uint64_t half = 0;
    for (size_t i = 0; i < k; i++)
        half += ma[i] != mb[i];
    *m = k;
    *t = half / 2;
    *l = 0;
    while (*l < 4 && *l < na && *l < nb && a[*l] == b[*l])
        (*l)++;
}

/* The exact Jaro-Winkler value as a fraction num / den, then one division. */
static double jw_exact(const char *a, const char *b) {
    uint64_t m, t, l, na = strlen(a), nb = strlen(b);
    jw_counts(a, b, &m, &t, &l);
    if (m == 0) return 0.0;
    /* jaro = (m/na + m/nb + (m-t)/m) / 3 = p / q */
    uint64_t p = m * nb * m + m * na * m + (m - t) * na * nb;
    uint64_t q = 3 * na * nb * m;
    if (10 * p <= 7 * q) return (double)p / (double)q; /* no boost unless jaro > 0.7 */
    /* jw = p/q + l/10 (1 - p/q) = (10 p + l (q - p)) / (10 q) */
    return (double)(10 * p + l * (q - p)) / (double)(10 * q);
}

static void test_jw_known_pairs(void **state) {
    (void)state;
    static const struct {
        const char *a, *b;
        double want; /* published, or for the last two worked by hand */
        uint64_t m, t, l;
    } pairs[] = {
        {"MARTHA", "MARHTA", 0.961111111, 6, 1, 3},
        {"DWAYNE", "DUANE", 0.84, 4, 0, 1},
        {"DIXON", "DICKSONX", 0.813333333, 4, 0, 2},
        {"JELLYFISH", "SMELLYFISH", 0.896296296, 8, 0, 0},
        {"CRATE", "TRACE", 0.733333333, 3, 0, 0},
        /* Three out-of-order matches: t = floor(3 / 2) = 1. */
        {"ABCVWXYZ", "CABVWXYZ", 0.958333333, 8, 1, 0},
    };
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        uint64_t m, t, l;
        jw_counts(pairs[i].a, pairs[i].b, &m, &t, &l);
        assert_int_equal(m, pairs[i].m);
        assert_int_equal(t, pairs[i].t);
        assert_int_equal(l, pairs[i].l);
        double exact = jw_exact(pairs[i].a, pairs[i].b);
        double got = jw_str(pairs[i].a, pairs[i].b);
        double back = jw_str(pairs[i].b, pairs[i].a);
        if (fabs(exact - pairs[i].want) > 1e-9 || fabs(got - exact) > 1e-12)
            fprintf(stderr, "%s/%s: got %.12f exact %.12f published %.9f\n", pairs[i].a, pairs[i].b,
                    got, exact, pairs[i].want);
        assert_true(fabs(exact - pairs[i].want) < 1e-9);
        assert_true(fabs(got - exact) < 1e-12);
        assert_true(fabs(back - exact) < 1e-12);
    }
}

static void test_jw_edges(void **state) {
    (void)state;
    uint32_t a[] = {'a', 'b', 'c'};
    assert_true(lm_jaro_winkler(a, 0, a, 0) == 1.0);
    assert_true(lm_jaro_winkler(a, 3, a, 0) == 0.0);
    assert_true(lm_jaro_winkler(a, 0, a, 3) == 0.0);
    assert_true(lm_jaro_winkler(a, 3, a, 3) == 1.0);
    assert_true(lm_jaro_winkler(a, 1, a, 1) == 1.0);
    assert_true(jw_str("x", "y") == 0.0);
    assert_true(jw_str("abc", "xyz") == 0.0);
    assert_true(jw_str("kitten sitting", "kitten sitting") == 1.0);
    /* Below 0.7 there is no prefix boost: "ab" vs "ax": jaro = 2/3. */
    assert_true(fabs(jw_str("ab", "ax") - 2.0 / 3.0) < 1e-15);
    /* Window 0 for lengths up to 3: a swap of neighbours is no match. */
    assert_true(jw_str("ab", "ba") == 0.0);
    /* Long inputs use a heap work area and agree with the exact value. */
    char x[700], y[700];
    for (int i = 0; i < 699; i++) {
        x[i] = (char)('a' + i % 26);
        y[i] = (char)('a' + (i * 7) % 26);
    }
    x[699] = y[699] = 0;
    double got = jw_str(x, y);
    assert_true(got >= 0.0 && got <= 1.0);
    assert_true(jw_str(x, x) == 1.0);
}

static void test_case_folding(void **state) {
    (void)state;
    assert_true(jw_str("MARTHA", "martha") == 1.0);
    assert_true(jw_str("\xC3\x89"
                       "COLE",
                       "\xC3\xA9"
                       "cole") == 1.0);                                       /* ÉCOLE / école */
    assert_true(jw_str("\xC4\x9E\xC3\x9CNAY", "\xC4\x9F\xC3\xBCnay") == 1.0); /* ĞÜNAY */
    assert_true(jw_str("\xC5\x81\xC3\x93"
                       "D\xC5\xB9",
                       "\xC5\x82\xC3\xB3"
                       "d\xC5\xBA") == 1.0);
    assert_true(jw_str("\xCE\xA3\xCE\x9F\xCE\xA6\xCE\x99\xCE\x91",
                       "\xCF\x83\xCE\xBF\xCF\x86\xCE\xB9\xCE\xB1") == 1.0); /* ΣΟΦΙΑ */
    assert_true(jw_str("\xD0\x9F\xD0\xA0\xD0\x98\xD0\x92\xD0\x95\xD0\xA2",
                       "\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82") == 1.0); /* ПРИВЕТ */
    /* Known simple foldings, and code points that have none. */
    assert_int_equal(lm_fuzzy_fold('Q'), 'q');
    assert_int_equal(lm_fuzzy_fold('q'), 'q');
    assert_int_equal(lm_fuzzy_fold('@'), '@');
    assert_int_equal(lm_fuzzy_fold(0xD7), 0xD7); /* multiplication sign */
    assert_int_equal(lm_fuzzy_fold(0xDE), 0xFE);
    assert_int_equal(lm_fuzzy_fold(0xB5), 0x3BC);
    assert_int_equal(lm_fuzzy_fold(0x178), 0xFF);
    assert_int_equal(lm_fuzzy_fold(0x17F), 's');
    assert_int_equal(lm_fuzzy_fold(0x139), 0x13A);
    assert_int_equal(lm_fuzzy_fold(0x14A), 0x14B);
    assert_int_equal(lm_fuzzy_fold(0x130), 0x130);
    assert_int_equal(lm_fuzzy_fold(0x3C2), 0x3C3);
    assert_int_equal(lm_fuzzy_fold(0x401), 0x451);
    assert_int_equal(lm_fuzzy_fold(0x4E00), 0x4E00);
    /* One U+FFFD per byte of an invalid sequence. */
    uint32_t out[16];
    assert_int_equal(lm_fuzzy_decode((const uint8_t *)"a\xFF\xC0\xAF"
                                                      "b\xE2\x82",
                                     7, out),
                     7);
    assert_int_equal(out[0], 'a');
    assert_int_equal(out[1], 0xFFFD);
    assert_int_equal(out[2], 0xFFFD);
    assert_int_equal(out[3], 0xFFFD);
    assert_int_equal(out[4], 'b');
    assert_int_equal(out[5], 0xFFFD);
    assert_int_equal(out[6], 0xFFFD);
    assert_int_equal(lm_fuzzy_decode((const uint8_t *)"\xED\xA0\x80\xF0\x9F\x98\x80", 7, out), 4);
    assert_int_equal(out[3], 0x1F600);
}

/* ---- searches ------------------------------------------------------------ */

/* A deterministic generator (xorshift) for texts. */
static uint64_t rng_state = 88172645463325252ull;
static uint32_t rnd(uint32_t n) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

/* Appends a random line of 1..12 words over a small alphabet (so that many
 * words are near the term) to buf at *len. */
static void random_line(char *buf, size_t *len, const char *alphabet) {
    size_t na = strlen(alphabet);
    uint32_t words = 1 + rnd(12);
    for (uint32_t w = 0; w < words; w++) {
        if (w) buf[(*len)++] = rnd(5) ? ' ' : '\t';
        uint32_t n = 1 + rnd(10);
        for (uint32_t i = 0; i < n; i++) {
            char c = alphabet[rnd((uint32_t)na)];
            buf[(*len)++] = rnd(4) ? c : (char)(c - 32 * (c >= 'a' && c <= 'z'));
        }
    }
}

static void test_planted_term(void **state) {
    (void)state;
    enum { LINES = 5000 };
    static const uint64_t planted[] = {1, 3, 100, 2500, 4999, 5000};
    char *text = malloc(LINES * 160);
    size_t len = 0, next = 0;
    for (uint64_t line = 1; line <= LINES; line++) {
        random_line(text, &len, "abcdeilnorstu");
        if (next < 6 && planted[next] == line) {
            /* The term in mixed case among the words, as the last word on
             * one line and the first on another. */
            const char *w = line % 2 ? " ZyXwVut" : " zyxWVUT";
            memcpy(text + len, w, strlen(w));
            len += strlen(w);
            next++;
        }
        text[len++] = '\n';
    }
    lm_test_store *store = lm_test_store_new();
    lm_test_store_put(store, "text/1", text, len);

    json_t *reply;
    json_t *data = invoke_ok(
        json_pack("{s:s, s:s, s:f}", "term", "zyxwvut", "input_key", "text/1", "threshold", 1.0),
        store, &reply);
    assert_int_equal(json_integer_value(json_object_get(data, "lines_scanned")), LINES);
    assert_int_equal(json_integer_value(json_object_get(data, "matches")), 6);
    json_t *res = json_object_get(data, "results");
    assert_int_equal(json_array_size(res), 6);
    for (size_t i = 0; i < 6; i++) {
        json_t *m = json_array_get(res, i);
        assert_int_equal(json_integer_value(json_object_get(m, "line")), planted[i]);
        assert_true(json_real_value(json_object_get(m, "score")) == 1.0);
        assert_non_null(strcasestr(json_string_value(json_object_get(m, "text")), " zyxwvut"));
    }
    json_decref(reply);

    /* At threshold 0 every line (each has words) matches: the planted lines
     * come first, in line order, then lower scores; limit cuts the list but
     * not the count. */
    data = invoke_ok(json_pack("{s:s, s:s, s:i, s:f}", "term", "ZYXWVUT", "input_key", "text/1",
                               "limit", 8, "threshold", 0.0),
                     store, &reply);
    res = json_object_get(data, "results");
    assert_int_equal(json_array_size(res), 8);
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(json_integer_value(json_object_get(json_array_get(res, i), "line")),
                         planted[i]);
    assert_true(json_real_value(json_object_get(json_array_get(res, 6), "score")) < 1.0);
    assert_true(json_real_value(json_object_get(json_array_get(res, 6), "score")) >=
                json_real_value(json_object_get(json_array_get(res, 7), "score")));
    assert_int_equal(json_integer_value(json_object_get(data, "matches")), LINES);
    json_decref(reply);
    lm_test_store_free(store);
    free(text);
}

typedef struct {
    uint64_t line;
    double score;
} ref_match;

static int ref_cmp(const void *pa, const void *pb) {
    const ref_match *a = pa, *b = pb;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return a->line < b->line ? -1 : a->line > b->line;
}

/* A whole search checked against brute force: every word of every line
 * scored with lm_jaro_winkler (no skipping), lines kept at the threshold,
 * sorted best first with ties by line. Shows the function's skipping never
 * changes an answer. */
static void oracle_search(const char *term, double threshold, uint64_t limit) {
    enum { LINES = 3000 };
    char *text = malloc(LINES * 160);
    size_t len = 0;
    for (int line = 0; line < LINES; line++) {
        random_line(text, &len, "aeinorst");
        if (rnd(10) == 0) text[len++] = '\r';
        text[len++] = '\n';
        if (rnd(50) == 0) text[len++] = '\n'; /* an empty line */
    }
    size_t nt;
    uint32_t *ct = cps(term, &nt);
    ref_match *ref = malloc(LINES * 2 * sizeof(*ref));
    size_t nref = 0;
    uint64_t lines = 0;
    uint32_t word[64];
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        lines++;
        double best = -1;
        for (size_t i = pos; i < end;) {
            while (i < end && strchr(" \t\r", text[i]))
                i++;
            size_t s = i;
            while (i < end && !strchr(" \t\r", text[i]))
                i++;
            if (i == s) break;
            size_t nw = lm_fuzzy_decode((const uint8_t *)text + s, i - s, word);
            double v = lm_jaro_winkler(ct, nt, word, nw);
            if (v > best) best = v;
        }
        if (best >= threshold) ref[nref++] = (ref_match){lines, best};
        pos = end + 1;
    }
    qsort(ref, nref, sizeof(*ref), ref_cmp);

    lm_test_store *store = lm_test_store_new();
    lm_test_store_put(store, "t", text, len);
    json_t *reply;
    json_t *data =
        invoke_ok(json_pack("{s:s, s:s, s:s, s:f, s:I}", "term", term, "input_key", "t", "storage",
                            "file", "threshold", threshold, "limit", (json_int_t)limit),
                  store, &reply);
    assert_int_equal(json_integer_value(json_object_get(data, "lines_scanned")), lines);
    assert_int_equal(json_integer_value(json_object_get(data, "matches")), nref);
    json_t *res = json_object_get(data, "results");
    size_t want = nref < limit ? nref : limit;
    assert_int_equal(json_array_size(res), want);
    for (size_t i = 0; i < want; i++) {
        json_t *m = json_array_get(res, i);
        assert_int_equal(json_integer_value(json_object_get(m, "line")), ref[i].line);
        double s = json_real_value(json_object_get(m, "score"));
        assert_true(fabs(s - ref[i].score) <= 5e-7);
        assert_true(s >= threshold - 5e-7);
    }
    json_decref(reply);
    lm_test_store_free(store);
    free(ref);
    free(ct);
    free(text);
}

static void test_oracle(void **state) {
    (void)state;
    oracle_search("toast", 0.8, 100000);
    oracle_search("toast", 0.9, 5);
    oracle_search("Senorita", 0.75, 100000);
    oracle_search("a", 0.5, 100000);
    oracle_search("orientations", 0.85, 100000);
    oracle_search("st", 0.0, 100000); /* every line with a word */
    oracle_search("rat", 0.95, 0);
}

static void test_lines_and_text(void **state) {
    (void)state;
    json_t *reply;
    /* CRLF endings, an empty line, no final newline: four lines. */
    json_t *data = invoke_ok(json_pack("{s:s, s:s, s:f}", "term", "beta", "text",
                                       "alpha\r\n  Beta gamma\r\n\nbeta", "threshold", 0.99),
                             NULL, &reply);
    assert_int_equal(json_integer_value(json_object_get(data, "lines_scanned")), 4);
    assert_int_equal(json_integer_value(json_object_get(data, "matches")), 2);
    json_t *res = json_object_get(data, "results");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(res, 0), "line")), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(res, 0), "text")),
                        "  Beta gamma");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(res, 1), "line")), 4);
    json_decref(reply);

    /* A final newline ends the last line; it starts no other. */
    data = invoke_ok(json_pack("{s:s, s:s}", "term", "x", "text", "x\ny\n"), NULL, &reply);
    assert_int_equal(json_integer_value(json_object_get(data, "lines_scanned")), 2);
    json_decref(reply);
    data = invoke_ok(json_pack("{s:s, s:s}", "term", "x", "text", ""), NULL, &reply);
    assert_int_equal(json_integer_value(json_object_get(data, "lines_scanned")), 0);
    assert_int_equal(json_integer_value(json_object_get(data, "matches")), 0);
    assert_int_equal(json_array_size(json_object_get(data, "results")), 0);
    json_decref(reply);

    /* Scores print with six decimals: MARTHA/MARHTA. */
    lm_test_reply r;
    assert_int_equal(lm_test_invoke(&lm_fn_fuzzy_search,
                                    "{\"term\":\"martha\",\"text\":\"x MARHTA\",\"threshold\":0.9}",
                                    NULL, &r),
                     200);
    assert_non_null(strstr(r.body, "{\"line\":1,\"score\":0.961111,\"text\":\"x MARHTA\"}"));
    lm_test_reply_free(&r);
}

static void test_invalid_utf8(void **state) {
    (void)state;
    static const char text[] = "caf\xC3\xA9 \xFF\xFE\n"
                               "\xC0\xAF zz \xE2\x82\n"
                               "\xED\xA0\x80\xF4\x90\x80\x80 caf\xC3\xA9s\n"
                               "\xE2\x82\xAC\x80\x80\x80\x80\n"
                               "\x00\x01 caf\xC3\x89\n";
    lm_test_store *store = lm_test_store_new();
    lm_test_store_put(store, "bad", text, sizeof(text) - 1);
    json_t *reply;
    json_t *data = invoke_ok(
        json_pack("{s:s, s:s, s:f}", "term", "caf\xC3\xA9", "input_key", "bad", "threshold", 0.9),
        store, &reply);
    assert_int_equal(json_integer_value(json_object_get(data, "lines_scanned")), 5);
    assert_int_equal(json_integer_value(json_object_get(data, "matches")), 3);
    json_t *res = json_object_get(data, "results");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(res, 0), "line")), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(res, 0), "text")),
                        "caf\xC3\xA9 \xEF\xBF\xBD\xEF\xBF\xBD");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(res, 1), "line")), 5);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(res, 2), "line")), 3);
    json_decref(reply);

    /* Terms made only of bytes that never decode still search safely. */
    data = invoke_ok(
        json_pack("{s:s, s:s, s:f}", "term", "\xEF\xBF\xBD", "input_key", "bad", "threshold", 0.5),
        store, &reply);
    assert_true(json_integer_value(json_object_get(data, "matches")) >= 2);
    json_decref(reply);
    lm_test_store_free(store);
}

static void test_probes(void **state) {
    (void)state;
    lm_test_store *store = lm_test_store_new();
    lm_test_store_put(store, "k", "alpha beta\n", 11);
    lm_test_reply r;
    assert_int_equal(
        lm_test_invoke(&lm_fn_fuzzy_search, "{\"term\":\"beta\",\"input_key\":\"k\"}", store, &r),
        200);
    assert_int_equal(r.probes[LM_PROBE_IO_READ_BYTES], 11);
    assert_int_equal(r.probes[LM_PROBE_IO_CALLS], 1);
    assert_int_equal(r.probes[LM_PROBE_IO_WRITE_BYTES], 0);
    lm_test_reply_free(&r);
    lm_test_store_free(store);
}

static void test_bad_input(void **state) {
    (void)state;
    lm_test_store *store = lm_test_store_new();
    lm_test_store_put(store, "k", "alpha\n", 6);
    char long_term[300];
    memset(long_term, 'a', 299);
    long_term[299] = 0;
    expect_error(json_pack("{s:s}", "input_key", "k"), store, 400, "bad_request", "term");
    expect_error(json_pack("{s:s, s:s}", "term", "", "input_key", "k"), store, 400, "bad_request",
                 "term");
    expect_error(json_pack("{s:i, s:s}", "term", 5, "input_key", "k"), store, 400, "bad_request",
                 "term");
    expect_error(json_pack("{s:s, s:s}", "term", long_term, "input_key", "k"), store, 400,
                 "bad_request", "term");
    expect_error(json_pack("{s:s, s:s, s:f}", "term", "a", "input_key", "k", "threshold", 1.5),
                 store, 400, "bad_request", "threshold");
    expect_error(json_pack("{s:s, s:s, s:f}", "term", "a", "input_key", "k", "threshold", -0.1),
                 store, 400, "bad_request", "threshold");
    expect_error(json_pack("{s:s, s:s, s:s}", "term", "a", "input_key", "k", "threshold", "high"),
                 store, 400, "bad_request", "threshold");
    expect_error(json_pack("{s:s, s:s, s:i}", "term", "a", "input_key", "k", "limit", 100001),
                 store, 400, "bad_request", "limit");
    expect_error(json_pack("{s:s, s:s, s:i}", "term", "a", "input_key", "k", "limit", -1), store,
                 400, "bad_request", "limit");
    expect_error(json_pack("{s:s, s:s}", "term", "a", "storage", "redis"), store, 400,
                 "bad_request", "input_key");
    expect_error(json_pack("{s:s}", "term", "a"), store, 400, "bad_request", "text");
    expect_error(json_pack("{s:s, s:s}", "term", "a", "input_key", "missing"), store, 404,
                 "not_found", "missing");
    expect_error(json_pack("{s:s, s:s, s:s}", "term", "a", "input_key", "k", "storage", "disk"),
                 store, 400, "bad_request", "storage");
    lm_test_store_free(store);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jw_known_pairs), cmocka_unit_test(test_jw_edges),
        cmocka_unit_test(test_case_folding),   cmocka_unit_test(test_planted_term),
        cmocka_unit_test(test_oracle),         cmocka_unit_test(test_lines_and_text),
        cmocka_unit_test(test_invalid_utf8),   cmocka_unit_test(test_probes),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
