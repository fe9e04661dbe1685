/* fuzz_json.c -- libFuzzer target for the SDK's JSON reader and writer, with jansson as the oracle.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const uint8_t *data, size_t size) {
    fprintf(stderr, "fuzz_json: %s (input of %zu bytes)\n", what, size);
    (void)data;
    abort();
}

/* Whether our tree and jansson's hold the same value; objects compare by key
 * with the last duplicate (lm_json_get) against jansson's (also the last). */
static int same_as_jansson(const lm_json *a, json_t *b) {
    switch (lm_json_typeof(a)) {
    case LM_JSON_NULL: return json_is_null(b);
    case LM_JSON_TRUE: return json_is_true(b);
    case LM_JSON_FALSE: return json_is_false(b);
    case LM_JSON_INTEGER: {
        int64_t v;
        return json_is_integer(b) && lm_json_int(a, &v) == 0 && v == json_integer_value(b);
    }
    case LM_JSON_REAL: {
        double d;
        return json_is_real(b) && lm_json_double(a, &d) == 0 && d == json_real_value(b) &&
               signbit(d) == signbit(json_real_value(b));
    }
    case LM_JSON_STRING: {
        size_t n;
        const char *s = lm_json_string(a, &n);
        return json_is_string(b) && n == json_string_length(b) &&
               memcmp(s, json_string_value(b), n) == 0 && s[n] == '\0';
    }
    case LM_JSON_ARRAY:
        if (!json_is_array(b) || lm_json_size(a) != json_array_size(b)) return 0;
        for (size_t i = 0; i < lm_json_size(a); i++)
            if (!same_as_jansson(lm_json_at(a, i), json_array_get(b, i))) return 0;
        return 1;
    case LM_JSON_OBJECT: {
        if (!json_is_object(b)) return 0;
        size_t n = lm_json_size(a), distinct = 0;
        for (size_t i = 0; i < n; i++) {
            size_t klen;
            const char *k = lm_json_key_at(a, i, &klen);
            const lm_json *last = lm_json_get(a, k);
            json_t *bv = json_object_getn(b, k, klen);
            if (!last || !bv || !same_as_jansson(last, bv)) return 0;
            if (last == lm_json_value_at(a, i)) distinct++;
        }
        return distinct == json_object_size(b);
    }
    }
    return 0;
}

/* Whether two of our trees are the same, members in document order. */
static int same_tree(const lm_json *a, const lm_json *b) {
    if (lm_json_typeof(a) != lm_json_typeof(b)) return 0;
    switch (lm_json_typeof(a)) {
    case LM_JSON_INTEGER: {
        int64_t x, y;
        lm_json_int(a, &x);
        lm_json_int(b, &y);
        return x == y;
    }
    case LM_JSON_REAL: {
        double x, y;
        lm_json_double(a, &x);
        lm_json_double(b, &y);
        return x == y && signbit(x) == signbit(y);
    }
    case LM_JSON_STRING: {
        size_t n, m;
        const char *s = lm_json_string(a, &n), *t = lm_json_string(b, &m);
        return n == m && memcmp(s, t, n) == 0;
    }
    case LM_JSON_ARRAY:
    case LM_JSON_OBJECT: {
        int obj = lm_json_typeof(a) == LM_JSON_OBJECT;
        if (lm_json_size(a) != lm_json_size(b)) return 0;
        for (size_t i = 0; i < lm_json_size(a); i++) {
            if (obj) {
                size_t n, m;
                const char *k = lm_json_key_at(a, i, &n), *l = lm_json_key_at(b, i, &m);
                if (n != m || memcmp(k, l, n) != 0) return 0;
                if (!same_tree(lm_json_value_at(a, i), lm_json_value_at(b, i))) return 0;
            } else if (!same_tree(lm_json_at(a, i), lm_json_at(b, i))) {
                return 0;
            }
        }
        return 1;
    }
    default: return 1;
    }
}

/* Writes a tree with lm_jw; reals with 17 significant digits (exact with a
 * correctly rounded reader) and a ".0" where they would read as integers.
 * Returns the nesting depth reached, so the caller knows whether the
 * writer's bound (LM_JW_MAX_DEPTH) was exceeded. */
static int write_tree(lm_jw *w, const lm_json *v) {
    int deepest = 0;
    switch (lm_json_typeof(v)) {
    case LM_JSON_NULL: lm_jw_null(w); break;
    case LM_JSON_TRUE: lm_jw_bool(w, 1); break;
    case LM_JSON_FALSE: lm_jw_bool(w, 0); break;
    case LM_JSON_INTEGER: {
        int64_t x;
        lm_json_int(v, &x);
        if (x >= 0 && (x & 1))
            lm_jw_u64(w, (uint64_t)x); /* both integer writers get exercised */
        else
            lm_jw_i64(w, x);
        break;
    }
    case LM_JSON_REAL: {
        double d;
        char tmp[40];
        lm_json_double(v, &d);
        snprintf(tmp, sizeof tmp, "%.17g", d);
        if (!strpbrk(tmp, ".eE")) strcat(tmp, ".0");
        lm_jw_raw(w, tmp, strlen(tmp));
        break;
    }
    case LM_JSON_STRING: {
        size_t n;
        const char *s = lm_json_string(v, &n);
        lm_jw_strn(w, s, n);
        break;
    }
    case LM_JSON_ARRAY:
        lm_jw_arr_begin(w);
        for (size_t i = 0; i < lm_json_size(v); i++) {
            int d = write_tree(w, lm_json_at(v, i));
            if (d > deepest) deepest = d;
        }
        lm_jw_arr_end(w);
        return deepest + 1;
    case LM_JSON_OBJECT:
        lm_jw_obj_begin(w);
        for (size_t i = 0; i < lm_json_size(v); i++) {
            lm_jw_key(w, lm_json_key_at(v, i, NULL));
            int d = write_tree(w, lm_json_value_at(v, i));
            if (d > deepest) deepest = d;
        }
        lm_jw_obj_end(w);
        return deepest + 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[LM_JSON_ERR_LEN];
    lm_json_doc *doc = lm_json_parse((const char *)data, size, err, sizeof err);
    if (!doc && !strstr(err, " at byte ")) die("error message without a byte offset", data, size);

    /* A raw NUL byte is never valid JSON, but jansson 2.14 drops one that
     * follows a number or a word (true/false/null) when it puts a character
     * back, so for such input RFC 8259 is the oracle: reject. */
    if (memchr(data, '\0', size)) {
        if (doc) die("accepted a raw NUL byte", data, size);
        return 0;
    }
    json_error_t je;
    json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!doc != !j) {
        fprintf(stderr, "lm_json: %s; jansson: %s\n", doc ? "accepts" : err,
                j ? "accepts" : je.text);
        die("lm_json and jansson disagree on validity", data, size);
    }
    if (doc) {
        if (!same_as_jansson(lm_json_root(doc), j)) die("values differ from jansson's", data, size);
        lm_jw w;
        lm_jw_init(&w);
        int depth = write_tree(&w, lm_json_root(doc));
        if (depth > LM_JW_MAX_DEPTH) {
            if (!w.err) die("writer took nesting past LM_JW_MAX_DEPTH", data, size);
        } else {
            if (w.err) die("writer failed", data, size);
            if (w.len != strlen(w.buf)) die("writer output has a raw NUL", data, size);
            lm_json_doc *again = lm_json_parse(w.buf, w.len, err, sizeof err);
            if (!again) {
                fprintf(stderr, "rewritten text does not parse: %s\n", err);
                die("round trip failed", data, size);
            }
            if (!same_tree(lm_json_root(doc), lm_json_root(again)))
                die("round trip changed the value", data, size);
            lm_json_free(again);
        }
        lm_jw_free(&w);
    }
    json_decref(j);
    lm_json_free(doc);
    return 0;
}
