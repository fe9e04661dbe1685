/* test_json.c -- the SDK's JSON reader and writer, checked against jansson as an oracle. */
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

#include "json.h"

#define JFLAGS (JSON_DECODE_ANY | JSON_ALLOW_NUL)

/* ---- comparing trees -------------------------------------------------- */

/* Whether an lm_json tree and a jansson tree hold the same value: types,
 * strings byte for byte, integers exactly, reals as doubles (sign of zero
 * included), objects member by member with the last duplicate winning on
 * our side (jansson keeps the last duplicate too). On a difference, why
 * says where. */
static int same_as_jansson(const lm_json *a, json_t *b, char *why, size_t whylen) {
    switch (lm_json_typeof(a)) {
    case LM_JSON_NULL:
        if (json_is_null(b)) return 1;
        break;
    case LM_JSON_TRUE:
        if (json_is_true(b)) return 1;
        break;
    case LM_JSON_FALSE:
        if (json_is_false(b)) return 1;
        break;
    case LM_JSON_INTEGER: {
        int64_t v;
        if (json_is_integer(b) && lm_json_int(a, &v) == 0 && v == json_integer_value(b)) return 1;
        break;
    }
    case LM_JSON_REAL: {
        double d;
        if (json_is_real(b) && lm_json_double(a, &d) == 0 && d == json_real_value(b) &&
            signbit(d) == signbit(json_real_value(b)))
            return 1;
        break;
    }
    case LM_JSON_STRING: {
        size_t n;
        const char *s = lm_json_string(a, &n);
        if (json_is_string(b) && n == json_string_length(b) &&
            memcmp(s, json_string_value(b), n) == 0 && s[n] == '\0')
            return 1;
        break;
    }
    case LM_JSON_ARRAY: {
        if (!json_is_array(b) || lm_json_size(a) != json_array_size(b)) break;
        for (size_t i = 0; i < lm_json_size(a); i++)
            if (!same_as_jansson(lm_json_at(a, i), json_array_get(b, i), why, whylen)) return 0;
        return 1;
    }
    case LM_JSON_OBJECT: {
        if (!json_is_object(b)) break;
        size_t distinct = 0, n = lm_json_size(a);
        for (size_t i = 0; i < n; i++) {
            size_t klen;
            const char *k = lm_json_key_at(a, i, &klen);
            int later = 0;
            for (size_t j = i + 1; j < n && !later; j++) {
                size_t l2;
                const char *k2 = lm_json_key_at(a, j, &l2);
                later = l2 == klen && memcmp(k, k2, klen) == 0;
            }
            if (later) continue;
            distinct++;
            /* The last occurrence is the one lm_json_get must return. */
            if (lm_json_get(a, k) != lm_json_value_at(a, i)) {
                snprintf(why, whylen, "lm_json_get(\"%s\") is not the last duplicate", k);
                return 0;
            }
            json_t *bv = json_object_getn(b, k, klen);
            if (!bv) {
                snprintf(why, whylen, "key \"%s\" missing in jansson's object", k);
                return 0;
            }
            if (!same_as_jansson(lm_json_value_at(a, i), bv, why, whylen)) return 0;
        }
        if (distinct == json_object_size(b)) return 1;
        snprintf(why, whylen, "%zu distinct keys, jansson has %zu", distinct, json_object_size(b));
        return 0;
    }
    }
    snprintf(why, whylen, "value of type %d differs from jansson's type %d", (int)lm_json_typeof(a),
             (int)json_typeof(b));
    return 0;
}

/* Whether two lm_json trees hold the same value, members in order. */
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
        if (lm_json_size(a) != lm_json_size(b)) return 0;
        for (size_t i = 0; i < lm_json_size(a); i++)
            if (!same_tree(lm_json_at(a, i), lm_json_at(b, i))) return 0;
        return 1;
    case LM_JSON_OBJECT:
        if (lm_json_size(a) != lm_json_size(b)) return 0;
        for (size_t i = 0; i < lm_json_size(a); i++) {
            size_t n, m;
            const char *k = lm_json_key_at(a, i, &n), *l = lm_json_key_at(b, i, &m);
            if (n != m || memcmp(k, l, n) != 0) return 0;
            if (!same_tree(lm_json_value_at(a, i), lm_json_value_at(b, i))) return 0;
        }
        return 1;
    default: return 1;
    }
}

/* Containers on the deepest path (0 for a scalar). */
static int tree_depth(const lm_json *v) {
    int deepest = 0;
    size_t n = lm_json_size(v);
    for (size_t i = 0; i < n; i++) {
        const lm_json *c =
            lm_json_typeof(v) == LM_JSON_ARRAY ? lm_json_at(v, i) : lm_json_value_at(v, i);
        int d = tree_depth(c);
        if (d > deepest) deepest = d;
    }
    return lm_json_typeof(v) == LM_JSON_ARRAY || lm_json_typeof(v) == LM_JSON_OBJECT ? deepest + 1
                                                                                     : 0;
}

/* Writes a parsed tree back out with the writer. Reals go out with 17
 * significant digits, which with correctly rounded reading gives back the
 * same double; a real that prints like an integer gets ".0" so that it is
 * read back as a real. */
static void write_tree(lm_jw *w, const lm_json *v) {
    switch (lm_json_typeof(v)) {
    case LM_JSON_NULL: lm_jw_null(w); break;
    case LM_JSON_TRUE: lm_jw_bool(w, 1); break;
    case LM_JSON_FALSE: lm_jw_bool(w, 0); break;
    case LM_JSON_INTEGER: {
        int64_t x;
        lm_json_int(v, &x);
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
        for (size_t i = 0; i < lm_json_size(v); i++)
            write_tree(w, lm_json_at(v, i));
        lm_jw_arr_end(w);
        break;
    case LM_JSON_OBJECT:
        lm_jw_obj_begin(w);
        for (size_t i = 0; i < lm_json_size(v); i++) {
            lm_jw_key(w, lm_json_key_at(v, i, NULL));
            write_tree(w, lm_json_value_at(v, i));
        }
        lm_jw_obj_end(w);
        break;
    }
}

/* ---- the oracle ------------------------------------------------------- */

static char *show(const char *text, size_t len) {
    static char buf[200];
    size_t o = 0;
    for (size_t i = 0; i < len && o + 8 < sizeof buf; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x20 && c < 0x7F)
            buf[o++] = (char)c;
        else
            o += (size_t)snprintf(buf + o, sizeof buf - o, "\\x%02x", c);
    }
    if (len && o + 8 >= sizeof buf)
        strcpy(buf + o, "...");
    else
        buf[o] = '\0';
    return buf;
}

/* Parses text with both parsers (from an exact-size heap copy, so that
 * AddressSanitizer catches any read past len) and fails the test when they
 * disagree on validity or, for a valid text, on the value. expect is 1 or 0
 * when the answer is known, -1 when only agreement is checked. Returns
 * whether it parsed.
 *
 * A raw NUL byte is never valid JSON (outside strings it is no token, inside
 * one it is a control character), but jansson 2.14 loses a NUL byte that
 * directly follows a number or a true/false/null word (its stream reader
 * takes a NUL in its look-ahead buffer for "empty" when a character is put
 * back), so it accepts e.g. "1\0". For input with a raw NUL the oracle is
 * therefore RFC 8259 itself: the document must be rejected. */
static int check_doc(const char *text, size_t len, int expect) {
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, text, len);
    char err[LM_JSON_ERR_LEN];
    strcpy(err, "untouched");
    lm_json_doc *doc = lm_json_parse(copy, len, err, sizeof err);
    int ours = doc != NULL, theirs;
    json_error_t je;
    json_t *j = NULL;
    if (memchr(copy, '\0', len)) {
        theirs = 0;
    } else {
        j = json_loadb(copy, len, JFLAGS, &je);
        theirs = j != NULL;
    }
    if (ours != theirs || (expect >= 0 && ours != expect)) {
        print_error("document %s: lm_json %s (%s), jansson %s (%s), expected %d\n", show(text, len),
                    ours ? "accepts" : "rejects", ours ? "" : err, theirs ? "accepts" : "rejects",
                    theirs ? "" : je.text, expect);
        fail();
    }
    if (!ours) {
        /* Every error message names where it went wrong. */
        if (!strstr(err, " at byte ")) {
            print_error("error message without a byte offset: %s\n", err);
            fail();
        }
    } else {
        char why[256] = "";
        if (!same_as_jansson(lm_json_root(doc), j, why, sizeof why)) {
            print_error("document %s: values differ: %s\n", show(text, len), why);
            fail();
        }
        /* And what the writer makes of it reads back as the same tree, if
         * the writer's shallower nesting bound lets it write the tree. */
        lm_jw w;
        lm_jw_init(&w);
        write_tree(&w, lm_json_root(doc));
        if (tree_depth(lm_json_root(doc)) > LM_JW_MAX_DEPTH) {
            assert_int_equal(w.err, 1);
        } else {
            assert_int_equal(w.err, 0);
            lm_json_doc *again = lm_json_parse(w.buf, w.len, err, sizeof err);
            if (!again) {
                print_error("rewritten %s does not parse: %s\n", show(w.buf, w.len), err);
                fail();
            }
            assert_true(same_tree(lm_json_root(doc), lm_json_root(again)));
            lm_json_free(again);
        }
        lm_jw_free(&w);
    }
    json_decref(j);
    lm_json_free(doc);
    free(copy);
    return ours;
}

/* ---- the corpus ------------------------------------------------------- */

typedef struct {
    const char *text;
    size_t len;
    int valid;
} doc_case;

/* sizeof keeps embedded NUL bytes in the literal. */
#define OK(s)                                                                                      \
    { s, sizeof(s) - 1, 1 }
#define BAD(s)                                                                                     \
    { s, sizeof(s) - 1, 0 }

static const doc_case corpus[] = {
    /* Scalars at the top level, with white space around. */
    OK("null"),
    OK("true"),
    OK("false"),
    OK("0"),
    OK("-0"),
    OK("1"),
    OK("-1"),
    OK("\"\""),
    OK(" \t\r\n1 \t\r\n"),
    OK("\"x\"\n"),
    OK("[]"),
    OK("{}"),
    OK(" [ ] "),
    OK(" { } "),
    BAD(""),
    BAD(" "),
    BAD("\n\t"),
    BAD("nul"),
    BAD("nulll"),
    BAD("True"),
    BAD("NULL"),
    BAD("tru"),
    BAD("fals"),
    BAD("truefalse"),
    BAD("null null"),
    BAD("1 2"),
    BAD("[] []"),
    BAD("\xef\xbb\xbf"
        "1"), /* a byte order mark is not white space */
    BAD("\x0b"
        "1"),
    BAD("\x0c"
        "1"), /* nor are VT and FF */
    BAD("1\x00"),
    BAD("\x00"),
    BAD("[1\x00]"),
    BAD("true\x00"),
    BAD("\"a\"\x00"),
    BAD("\xa0"
        "1"),
    BAD("1 #"),
    BAD("// c\n1"),
    BAD("/* c */ 1"),
    /* Integers. */
    OK("123456789"),
    OK("-123456789"),
    OK("9223372036854775807"),
    OK("-9223372036854775808"),
    BAD("9223372036854775808"),
    BAD("-9223372036854775809"),
    BAD("18446744073709551616"),
    BAD("99999999999999999999999"),
    BAD("-99999999999999999999999"),
    OK("[0,-0,7]"),
    BAD("01"),
    BAD("-01"),
    BAD("00"),
    BAD("-"),
    BAD("+1"),
    BAD("--1"),
    BAD("- 1"),
    BAD("0x10"),
    BAD("1_000"),
    BAD("Infinity"),
    BAD("-Infinity"),
    BAD("NaN"),
    BAD("[01]"),
    BAD("[-]"),
    BAD("1-"),
    BAD("1+1"),
    /* Reals. */
    OK("0.5"),
    OK("-0.5"),
    OK("1.0"),
    OK("-0.0"),
    OK("0e0"),
    OK("0E0"),
    OK("1e5"),
    OK("1E+5"),
    OK("1e-5"),
    OK("1.5e10"),
    OK("-1.25E-3"),
    OK("3.141592653589793"),
    OK("0.1"),
    OK("2.2250738585072014e-308"),
    OK("4.9406564584124654e-324"),
    OK("2.4703282292062327e-324"),
    OK("2.4703282292062328e-324"),
    OK("1e-400"),
    OK("-1e-400"),
    OK("1.7976931348623157e308"),
    OK("1.7976931348623158e308"),
    OK("179769313486231580793728971405301e276"),
    BAD("1.7976931348623159e308"),
    BAD("1e309"),
    BAD("-1e309"),
    BAD("1e400"),
    BAD("1e99999999999999999999"),
    OK("1e-99999999999999999999"),
    OK("0e99999999999999999999"),
    OK("9223372036854775808.0"),
    OK("1e2"),
    OK("123456789012345678901234567890.5"),
    OK("0.000000000000000000000000000000000000000000000000000000000000000000000000000001"),
    OK("9007199254740993"),
    OK("9007199254740993.0"),
    OK("1.00000000000000011102230246251565404236316680908203125"),
    OK("1.00000000000000011102230246251565404236316680908203124"),
    OK("1.00000000000000011102230246251565404236316680908203126"),
    BAD("1."),
    BAD(".5"),
    BAD("-.5"),
    BAD("1.e5"),
    BAD("1e"),
    BAD("1e+"),
    BAD("1e-"),
    BAD("1E"),
    BAD("1.5e"),
    BAD("1.5.5"),
    BAD("1e5e5"),
    BAD("1e5.5"),
    BAD("0.e1"),
    BAD("1ee5"),
    BAD("[1.]"),
    BAD("[.5]"),
    BAD("1.5f"),
    BAD("1,5"),
    /* Strings and escapes. */
    OK("\"abc\""),
    OK("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""),
    OK("\"\\u0041\""),
    OK("\"\\u00e9\""),
    OK("\"\\u00E9\""),
    OK("\"\\u20AC\""),
    OK("\"\\uFFFF\""),
    OK("\"\\uFFFE\""),
    OK("\"\\u0000\""),
    OK("\"a\\u0000b\""),
    OK("[\"\\u0000\"]"),
    OK("{\"k\":\"\\u0000\"}"),
    OK("\"\\uD834\\uDD1E\""),
    OK("\"\\ud834\\udd1e\""),
    OK("\"\\uDBFF\\uDFFF\""),
    OK("\"\\uD800\\uDC00\""),
    OK("\"x\\uD83D\\uDE00y\""),
    OK("\"\\u007f\""),
    OK("\"\x7f\""),
    OK("\"'\""),
    OK("\"/\""),
    BAD("\"\\uD800\""),
    BAD("\"\\uDBFF\""),
    BAD("\"\\uDC00\""),
    BAD("\"\\uDFFF\""),
    BAD("\"\\uD800\\uD800\""),
    BAD("\"\\uD800x\""),
    BAD("\"\\uD800\\u0041\""),
    BAD("\"\\uDC00\\uD800\""),
    BAD("\"\\uD800\\\""),
    BAD("\"\\uD800\\u\""),
    BAD("\"\\uD800\\uDC0\""),
    BAD("\"\\uD800\\n\""),
    BAD("\"\\u12\""),
    BAD("\"\\u123\""),
    BAD("\"\\u12G4\""),
    BAD("\"\\U0041\""),
    BAD("\"\\x41\""),
    BAD("\"\\a\""),
    BAD("\"\\'\""),
    BAD("\"\\0\""),
    BAD("\"\\ \""),
    BAD("\"\\\""),
    BAD("\"\\"),
    BAD("\"abc"),
    BAD("\""),
    BAD("'abc'"),
    BAD("\"\\u"),
    BAD("\"\\u00"),
    BAD("\"\\uD834\\uDD1"),
    BAD("\"\\\x00\""),
    BAD("\"a\x00b\""),
    BAD("\"\x01\""),
    BAD("\"\x1f\""),
    BAD("\"\t\""),
    BAD("\"\n\""),
    BAD("\"\r\""),
    BAD("{\"a\\u0000b\":1}"),
    BAD("{\"\\u0000\":1}"),
    /* UTF-8 in strings: valid sequences at the edges of each length. */
    OK("\"\xc2\x80\""),
    OK("\"\xdf\xbf\""),
    OK("\"\xe0\xa0\x80\""),
    OK("\"\xef\xbf\xbf\""),
    OK("\"\xed\x9f\xbf\""),
    OK("\"\xee\x80\x80\""),
    OK("\"\xf0\x90\x80\x80\""),
    OK("\"\xf4\x8f\xbf\xbf\""),
    OK("\"\xc3\xa9t\xc3\xa9\""),
    OK("\"\xe2\x82\xac\""),
    OK("{\"\xc3\xa9\":\"\xf0\x9f\x98\x80\"}"),
    /* ...and every way to get it wrong: */
    BAD("\"\x80\""),
    BAD("\"\xbf\""),
    BAD("\"\xc0\x80\""),
    BAD("\"\xc1\xbf\""), /* overlong 2 */
    BAD("\"\xe0\x80\x80\""),
    BAD("\"\xe0\x9f\xbf\""), /* overlong 3 */
    BAD("\"\xf0\x80\x80\x80\""),
    BAD("\"\xf0\x8f\xbf\xbf\""), /* overlong 4 */
    BAD("\"\xed\xa0\x80\""),
    BAD("\"\xed\xbf\xbf\""),             /* surrogates */
    BAD("\"\xed\xa0\xbd\xed\xb8\x80\""), /* CESU-8 pair */
    BAD("\"\xf4\x90\x80\x80\""),
    BAD("\"\xf5\x80\x80\x80\""),
    BAD("\"\xf7\xbf\xbf\xbf\""),
    BAD("\"\xf8\x88\x80\x80\x80\""),
    BAD("\"\xfc\x84\x80\x80\x80\x80\""),
    BAD("\"\xfe\""),
    BAD("\"\xff\""),
    BAD("\"\xc2\""),
    BAD("\"\xc2x\""),
    BAD("\"\xc2\xc2\x80\""),
    BAD("\"\xe2\x82\""),
    BAD("\"\xe2\x82x\""),
    BAD("\"\xe2\x28\xa1\""),
    BAD("\"\xf0\x9f\x98\""),
    BAD("\"\xf0\x9f\x98x\""),
    BAD("\"\xf0\x9f\x98\xc0\""),
    BAD("\"\xc2\"\x80"),
    BAD("\"\xe2\x82"),
    BAD("{\"\xff\":1}"),
    BAD("[\"\xed\xa0\x80\"]"),
    /* Arrays. */
    OK("[1,2,3]"),
    OK("[ 1 , 2 , 3 ]"),
    OK("[[]]"),
    OK("[[],[[]],{}]"),
    OK("[null,true,false]"),
    OK("[\"a\",{\"b\":[1]}]"),
    BAD("["),
    BAD("]"),
    BAD("[1"),
    BAD("[1,"),
    BAD("[1,]"),
    BAD("[,1]"),
    BAD("[,]"),
    BAD("[1 2]"),
    BAD("[1;2]"),
    BAD("[1:2]"),
    BAD("[}"),
    BAD("[[]"),
    BAD("[]]"),
    BAD("[1]]"),
    BAD("[\"a\" \"b\"]"),
    BAD("[\"a\":1]"),
    /* Objects, duplicates included (the last one wins). */
    OK("{\"a\":1}"),
    OK("{ \"a\" : 1 , \"b\" : [ ] }"),
    OK("{\"\":0}"),
    OK("{\"a\":{\"a\":{}}}"),
    OK("{\"a\":1,\"a\":2}"),
    OK("{\"a\":1,\"b\":2,\"a\":3}"),
    OK("{\"a\":[1],\"a\":{\"x\":null}}"),
    OK("{\"k\":1,\"k\":2,\"k\":3,\"j\":0,\"k\":4}"),
    OK("{\"\\u0041\":1,\"A\":2}"),
    OK("{\"a\\/b\":1,\"a/b\":2}"),
    BAD("{"),
    BAD("}"),
    BAD("{\"a\"}"),
    BAD("{\"a\":}"),
    BAD("{\"a\" 1}"),
    BAD("{\"a\":1,}"),
    BAD("{,}"),
    BAD("{\"a\":1 \"b\":2}"),
    BAD("{a:1}"),
    BAD("{1:1}"),
    BAD("{null:1}"),
    BAD("{'a':1}"),
    BAD("{\"a\"::1}"),
    BAD("{\"a\":1:2}"),
    BAD("{\"a\":1]"),
    BAD("[\"a\":1}"),
    BAD("{\"a\",1}"),
    BAD("{\"a\":1,,\"b\":2}"),
    BAD("{]"),
};

static void test_corpus(void **state) {
    (void)state;
    size_t n = sizeof corpus / sizeof corpus[0];
    assert_true(n >= 150);
    for (size_t i = 0; i < n; i++)
        check_doc(corpus[i].text, corpus[i].len, corpus[i].valid);
}

/* A buffer that grows; for building the big test documents. */
typedef struct {
    char *p;
    size_t n, cap;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void sb_printf(sbuf *b, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    sb_put(b, tmp, (size_t)n);
}

/* Nesting: jansson counts every value against its bound of 2048, so 2048
 * empty arrays in each other parse, a scalar inside 2048 arrays does not. */
static void test_depth(void **state) {
    (void)state;
    for (int d = LM_JSON_MAX_DEPTH - 2; d <= LM_JSON_MAX_DEPTH + 2; d++) {
        for (int kind = 0; kind < 4; kind++) {
            sbuf b = {0};
            for (int i = 0; i < d; i++)
                sb_put(&b, kind == 2 ? "{\"k\":" : "[", kind == 2 ? 5 : 1);
            if (kind == 1 || kind == 2) sb_put(&b, "1", 1);
            if (kind == 3) sb_put(&b, "{}", 2);
            for (int i = 0; i < d; i++)
                sb_put(&b, kind == 2 ? "}" : "]", 1);
            /* The innermost 1 or {} is one level more. */
            int expect = kind == 0 ? d <= LM_JSON_MAX_DEPTH : d + 1 <= LM_JSON_MAX_DEPTH;
            check_doc(b.p, b.n, expect);
            free(b.p);
        }
    }
    /* Far past the bound, and unterminated deep nesting. */
    sbuf b = {0};
    for (int i = 0; i < 100000; i++)
        sb_put(&b, "[", 1);
    check_doc(b.p, b.n, 0);
    char err[LM_JSON_ERR_LEN];
    assert_null(lm_json_parse(b.p, b.n, err, sizeof err));
    assert_non_null(strstr(err, "nesting deeper than 2048 at byte 2048"));
    free(b.p);
}

/* Big documents: long arrays, many keys, long strings, long numbers. */
static void test_big(void **state) {
    (void)state;
    sbuf b = {0};
    sb_put(&b, "[", 1);
    for (int i = 0; i < 200000; i++)
        sb_printf(&b, "%s%d", i ? "," : "", i * 7 - 500000);
    sb_put(&b, "]", 1);
    check_doc(b.p, b.n, 1);
    b.n = 0;

    sb_put(&b, "{", 1);
    for (int i = 0; i < 3000; i++)
        sb_printf(&b, "%s\"key%d\":{\"v\":[%d.5,\"s%d\"]}", i ? "," : "", i % 2500, i, i);
    sb_put(&b, "}", 1);
    check_doc(b.p, b.n, 1);
    b.n = 0;

    sb_put(&b, "\"", 1);
    for (int i = 0; i < 300000; i++)
        sb_put(&b, i % 3 ? "\xc3\xa9" : "\\n\\u20ac", i % 3 ? 2 : 8);
    sb_put(&b, "\"", 1);
    check_doc(b.p, b.n, 1);
    b.n = 0;

    sb_put(&b, "0.", 2);
    for (int i = 0; i < 5000; i++)
        sb_put(&b, "1234567890", 10);
    check_doc(b.p, b.n, 1);
    b.n = 0;

    for (int i = 0; i < 400; i++)
        sb_put(&b, "1234567890", 10);
    sb_put(&b, "e-3990", 6);
    check_doc(b.p, b.n, 1);
    b.n = 0;
    for (int i = 0; i < 400; i++)
        sb_put(&b, "1234567890", 10);
    check_doc(b.p, b.n, 0);
    free(b.p);
}

/* ---- random documents ------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void) {
    /* splitmix64: small, seedable and good enough for test data. */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint32_t below(uint32_t n) { return (uint32_t)(rnd() % n); }

/* Random valid UTF-8 with the awkward characters over-represented: quotes,
 * backslashes, control characters, NUL (when allowed), and code points of
 * every encoded length up to U+10FFFF. */
static size_t rand_utf8(char *o, size_t max, int allow_nul) {
    size_t n = 0, want = below(4) == 0 ? below(40) : below(8);
    while (n + 4 <= max && want-- > 0) {
        uint32_t cp;
        switch (below(8)) {
        case 0: cp = below(0x20); break;
        case 1: cp = "\"\\/'"[below(4)]; break;
        case 2: cp = 0x80 + below(0x780); break;
        case 3:
            cp = 0x800 + below(0xF800);
            if (cp >= 0xD800 && cp <= 0xDFFF) cp -= 0x800;
            break;
        case 4: cp = 0x10000 + below(0x100000); break;
        default: cp = 0x20 + below(0x5F); break;
        }
        if (cp == 0 && !allow_nul) cp = 'z';
        if (cp < 0x80) {
            o[n++] = (char)cp;
        } else if (cp < 0x800) {
            o[n++] = (char)(0xC0 | (cp >> 6));
            o[n++] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            o[n++] = (char)(0xE0 | (cp >> 12));
            o[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            o[n++] = (char)(0x80 | (cp & 0x3F));
        } else {
            o[n++] = (char)(0xF0 | (cp >> 18));
            o[n++] = (char)(0x80 | ((cp >> 12) & 0x3F));
            o[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            o[n++] = (char)(0x80 | (cp & 0x3F));
        }
    }
    o[n] = '\0';
    return n;
}

/* A string literal written by hand with \u escapes (pairs for astral
 * characters, either case of hex) and short escapes, for the reader's
 * escape decoding: the writer never produces these. */
static void rand_escaped(lm_jw *w) {
    char t[256];
    size_t n = 0;
    t[n++] = '"';
    int count = (int)below(8);
    for (int i = 0; i < count; i++) {
        const char *hex = below(2) ? "0123456789abcdef" : "0123456789ABCDEF";
        uint32_t cp = below(3) ? below(0x10000) : 0x10000 + below(0x100000);
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 'q';
        if (below(4) == 0) {
            t[n++] = '\\';
            t[n++] = "\"\\/bfnrt"[below(8)];
            continue;
        }
        uint32_t units[2];
        int nu = 0;
        if (cp >= 0x10000) {
            units[nu++] = 0xD800 + ((cp - 0x10000) >> 10);
            units[nu++] = 0xDC00 + ((cp - 0x10000) & 0x3FF);
        } else {
            units[nu++] = cp;
        }
        for (int u = 0; u < nu; u++) {
            t[n++] = '\\';
            t[n++] = 'u';
            for (int s = 12; s >= 0; s -= 4)
                t[n++] = hex[(units[u] >> s) & 15];
        }
    }
    t[n++] = '"';
    lm_jw_raw(w, t, n);
}

/* A real literal in every shape the grammar allows, long mantissas and
 * exponents near both ends of the double range included. */
static void rand_real_text(lm_jw *w) {
    char t[128];
    size_t n = 0;
    if (below(2)) t[n++] = '-';
    if (below(3) == 0) {
        t[n++] = '0';
    } else {
        t[n++] = (char)('1' + below(9));
        for (int i = (int)below(20); i > 0; i--)
            t[n++] = (char)('0' + below(10));
    }
    int frac = below(3) != 0, ex = below(2) != 0;
    if (!frac && !ex) frac = 1;
    if (frac) {
        t[n++] = '.';
        for (int i = 1 + (int)below(25); i > 0; i--)
            t[n++] = (char)('0' + below(10));
    }
    if (ex) {
        t[n++] = below(2) ? 'e' : 'E';
        int r = (int)below(3);
        if (r == 1) t[n++] = '+';
        if (r == 2) t[n++] = '-';
        n += (size_t)snprintf(t + n, sizeof t - n, "%u", below(4) == 0 ? below(340) : below(30));
    }
    lm_jw_raw(w, t, n);
}

static void rand_value(lm_jw *w, int depth) {
    char s[200];
    int pick = (int)below(depth > 5 ? 9 : 12);
    switch (pick) {
    case 0: lm_jw_null(w); break;
    case 1: lm_jw_bool(w, (int)below(2)); break;
    case 2: {
        int64_t v;
        switch (below(4)) {
        case 0: v = (int64_t)rnd(); break;
        case 1: v = (int64_t)below(2001) - 1000; break;
        case 2: v = below(2) ? INT64_MAX : INT64_MIN; break;
        default: v = (int64_t)(rnd() >> below(64)); break;
        }
        lm_jw_i64(w, v);
        break;
    }
    case 3: lm_jw_u64(w, rnd() >> (1 + below(63))); break;
    case 4: {
        /* Reals through lm_jw_fixed from a random bit pattern. */
        uint64_t bits = rnd();
        double d;
        memcpy(&d, &bits, sizeof d);
        if (below(2)) d = (double)(int64_t)(rnd() >> 20) / (double)(1 + below(1000));
        lm_jw_fixed(w, d, (int)below(18));
        break;
    }
    case 5: rand_real_text(w); break;
    case 6: {
        size_t n = rand_utf8(s, sizeof s - 1, 1);
        lm_jw_strn(w, s, n);
        break;
    }
    case 7: rand_escaped(w); break;
    case 8: lm_jw_str(w, ""); break;
    case 9:
    case 10: {
        lm_jw_arr_begin(w);
        for (int i = (int)below(6); i > 0; i--)
            rand_value(w, depth + 1);
        lm_jw_arr_end(w);
        break;
    }
    default: {
        lm_jw_obj_begin(w);
        for (int i = (int)below(6); i > 0; i--) {
            /* Small key alphabet so that duplicates happen. */
            if (below(2)) {
                char k[2] = {(char)('a' + below(4)), 0};
                lm_jw_key(w, k);
            } else {
                rand_utf8(s, 40, 0);
                lm_jw_key(w, s);
            }
            rand_value(w, depth + 1);
        }
        lm_jw_obj_end(w);
        break;
    }
    }
}

/* Writes thousands of random values with lm_jw and checks both parsers read
 * the same tree back (and that it survives a second write and read). */
static void test_random_values(void **state) {
    (void)state;
    rng_state = 20240601;
    int valid = 0;
    const int runs = 6000;
    lm_jw w;
    lm_jw_init(&w);
    for (int i = 0; i < runs; i++) {
        lm_jw_reset(&w);
        rand_value(&w, 0);
        assert_int_equal(w.err, 0);
        assert_int_equal(w.depth, 0);
        valid += check_doc(w.buf, w.len, -1);
    }
    lm_jw_free(&w);
    /* Only reals that overflow are invalid. */
    assert_true(valid > runs * 9 / 10);
}

/* A few seed documents for mutation, besides the valid corpus entries. */
static const char *const seeds[] = {
    "{\"a\":[1,2.5,-3e2,\"x\\u00e9\\n\"],\"b\":{\"c\":null,\"d\":true,\"e\":false}}",
    "[\"\\ud83d\\ude00\",\"\xf0\x9f\x98\x80\",\"\xc3\xa9\xe2\x82\xac\",0.1e-7,-0,"
    "9223372036854775807]",
    "{\"k\":\"v\",\"k\":[[],{}],\"\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}",
    " [ 1 , { \"x\" : [ true , null ] } , \"\\u0000\" ] ",
};

/* Applies one to four random edits: flips, inserts, deletes, copies. */
static size_t mutate(char *d, size_t n, size_t cap) {
    static const unsigned char interesting[] = {
        0x00, '"',  '\\', '{',  '}',  '[',  ']',  ',',  ':',  ' ',  '\n', '0',  '1',  '9',
        '-',  '+',  '.',  'e',  'E',  'u',  'n',  't',  'f',  'a',  'D',  0x1F, 0x7F, 0x80,
        0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0xA0, 0x8F, 0x90};
    int edits = 1 + (int)below(4);
    for (int e = 0; e < edits; e++) {
        unsigned char b = below(3) ? interesting[below(sizeof interesting)] : (unsigned char)rnd();
        size_t at = n ? below((uint32_t)n) : 0;
        switch (below(5)) {
        case 0:
            if (n) d[at] = (char)b;
            break;
        case 1:
            if (n + 1 < cap) {
                memmove(d + at + 1, d + at, n - at);
                d[at] = (char)b;
                n++;
            }
            break;
        case 2:
            if (n) {
                memmove(d + at, d + at + 1, n - at - 1);
                n--;
            }
            break;
        case 3:
            if (n) d[at] ^= (char)(1u << below(8));
            break;
        default: {
            size_t len = n ? below((uint32_t)(n - at) + 1) : 0;
            if (len > 16) len = 16;
            if (n + len < cap) {
                size_t to = n ? below((uint32_t)n) : 0;
                char tmp[16];
                memcpy(tmp, d + at, len);
                memmove(d + to + len, d + to, n - to);
                memcpy(d + to, tmp, len);
                n += len;
            }
            break;
        }
        }
    }
    return n;
}

/* Random edits of valid documents: the two parsers must agree on each. */
static void test_mutations(void **state) {
    (void)state;
    rng_state = 777;
    char buf[4096];
    int accepted = 0, total = 0;
    lm_jw w;
    lm_jw_init(&w);
    for (int i = 0; i < 40000; i++) {
        const char *src;
        size_t n;
        int which = (int)below(3);
        if (which == 0) {
            size_t k = below(sizeof seeds / sizeof seeds[0]);
            src = seeds[k];
            n = strlen(src);
        } else if (which == 1) {
            size_t k = below(sizeof corpus / sizeof corpus[0]);
            src = corpus[k].text;
            n = corpus[k].len;
        } else {
            lm_jw_reset(&w);
            rand_value(&w, 3);
            src = w.buf;
            n = w.len;
        }
        if (n >= sizeof buf / 2) continue;
        memcpy(buf, src, n);
        n = mutate(buf, n, sizeof buf);
        accepted += check_doc(buf, n, -1);
        total++;
    }
    lm_jw_free(&w);
    /* The edits must leave a fair share valid, or little is being tested. */
    assert_true(accepted > total / 20);
    assert_true(accepted < total * 9 / 10);
}

/* ---- the reader's API --------------------------------------------------- */

static void test_reader_api(void **state) {
    (void)state;
    const char text[] = "{\"n\":-7,\"r\":2.5,\"s\":\"a\\u0000b\",\"a\":[true,false,null],"
                        "\"o\":{},\"n\":8}";
    char err[LM_JSON_ERR_LEN];
    lm_json_doc *doc = lm_json_parse(text, sizeof text - 1, err, sizeof err);
    assert_non_null(doc);
    const lm_json *root = lm_json_root(doc);
    assert_int_equal(lm_json_typeof(root), LM_JSON_OBJECT);
    assert_int_equal(lm_json_size(root), 6);

    int64_t i;
    double d;
    assert_int_equal(lm_json_int(lm_json_get(root, "n"), &i), 0);
    assert_int_equal(i, 8); /* the last duplicate */
    assert_int_equal(lm_json_int(lm_json_value_at(root, 0), &i), 0);
    assert_int_equal(i, -7);
    assert_int_equal(lm_json_double(lm_json_get(root, "n"), &d), 0);
    assert_true(d == 8.0);
    assert_int_equal(lm_json_int(lm_json_get(root, "r"), &i), -1);
    assert_int_equal(lm_json_double(lm_json_get(root, "r"), &d), 0);
    assert_true(d == 2.5);
    assert_int_equal(lm_json_double(lm_json_get(root, "s"), &d), -1);
    assert_int_equal(lm_json_double(NULL, &d), -1);
    assert_int_equal(lm_json_int(NULL, &i), -1);

    size_t len = 99;
    const char *s = lm_json_string(lm_json_get(root, "s"), &len);
    assert_int_equal(len, 3);
    assert_memory_equal(s, "a\0b", 4);
    assert_null(lm_json_string(lm_json_get(root, "n"), &len));
    assert_non_null(lm_json_string(lm_json_get(root, "s"), NULL));

    const lm_json *a = lm_json_get(root, "a");
    assert_int_equal(lm_json_typeof(a), LM_JSON_ARRAY);
    assert_int_equal(lm_json_size(a), 3);
    assert_int_equal(lm_json_typeof(lm_json_at(a, 0)), LM_JSON_TRUE);
    assert_int_equal(lm_json_typeof(lm_json_at(a, 1)), LM_JSON_FALSE);
    assert_int_equal(lm_json_typeof(lm_json_at(a, 2)), LM_JSON_NULL);
    assert_null(lm_json_at(a, 3));
    assert_null(lm_json_at(root, 0));
    assert_null(lm_json_get(a, "x"));
    assert_null(lm_json_get(root, "missing"));
    assert_null(lm_json_get(root, "")); /* no prefix matches */
    assert_null(lm_json_get(root, "nn"));
    assert_int_equal(lm_json_size(lm_json_get(root, "o")), 0);
    assert_int_equal(lm_json_size(lm_json_get(root, "n")), 0);

    assert_string_equal(lm_json_key_at(root, 5, &len), "n");
    assert_int_equal(len, 1);
    assert_string_equal(lm_json_key_at(root, 2, NULL), "s");
    assert_null(lm_json_key_at(root, 6, &len));
    assert_null(lm_json_value_at(root, 6));
    assert_null(lm_json_key_at(a, 0, &len));
    assert_null(lm_json_value_at(a, 0));
    lm_json_free(doc);

    /* The input need not be NUL-terminated: only len bytes count. */
    doc = lm_json_parse("12345", 2, err, sizeof err);
    assert_non_null(doc);
    assert_int_equal(lm_json_int(lm_json_root(doc), &i), 0);
    assert_int_equal(i, 12);
    lm_json_free(doc);

    /* Errors name the byte offset; a NULL err is allowed. */
    assert_null(lm_json_parse("[1,\"\\q\"]", 8, err, sizeof err));
    assert_string_equal(err, "invalid escape '\\q' at byte 4");
    assert_null(lm_json_parse("[1,2", 4, err, sizeof err));
    assert_string_equal(err, "unexpected end of input at byte 4");
    assert_null(lm_json_parse("1e999", 5, err, sizeof err));
    assert_string_equal(err, "real number overflow at byte 0");
    assert_null(lm_json_parse(" 01", 3, err, sizeof err));
    assert_non_null(strstr(err, "at byte 1"));
    assert_null(lm_json_parse("\"\xed\xa0\x80\"", 5, err, sizeof err));
    assert_string_equal(err, "invalid UTF-8 byte 0xed in string at byte 1");
    assert_null(lm_json_parse("", 0, NULL, 0));
    assert_null(lm_json_parse(NULL, 0, err, 4));
    assert_int_equal(strlen(err), 3); /* truncated to errlen */
}

static void test_free_null(void **state) {
    (void)state;
    lm_json_free(NULL);
    lm_jw_free(NULL);
    lm_jw w;
    lm_jw_init(&w);
    lm_jw_free(&w); /* never written: nothing to free */
    lm_jw_free(&w); /* twice is harmless too */
}

/* ---- the writer --------------------------------------------------------- */

static void test_writer_structure(void **state) {
    (void)state;
    lm_jw w;
    lm_jw_init(&w);
    lm_jw_obj_begin(&w);
    lm_jw_key(&w, "a");
    lm_jw_arr_begin(&w);
    lm_jw_u64(&w, 1);
    lm_jw_i64(&w, -2);
    lm_jw_obj_begin(&w);
    lm_jw_obj_end(&w);
    lm_jw_arr_begin(&w);
    lm_jw_arr_end(&w);
    lm_jw_arr_end(&w);
    lm_jw_key(&w, "b");
    lm_jw_null(&w);
    lm_jw_key(&w, "c");
    lm_jw_bool(&w, 1);
    lm_jw_key(&w, "d");
    lm_jw_bool(&w, 0);
    lm_jw_key(&w, "e");
    lm_jw_raw(&w, "[1, 2]", 6);
    lm_jw_key(&w, "f");
    lm_jw_str(&w, "x");
    lm_jw_obj_end(&w);
    assert_int_equal(w.err, 0);
    assert_string_equal(
        w.buf, "{\"a\":[1,-2,{},[]],\"b\":null,\"c\":true,\"d\":false,\"e\":[1, 2],\"f\":\"x\"}");
    assert_int_equal(w.len, strlen(w.buf));

    /* Reset keeps the buffer and starts over. */
    char *buf = w.buf;
    lm_jw_reset(&w);
    assert_int_equal(w.len, 0);
    assert_ptr_equal(w.buf, buf);
    lm_jw_u64(&w, UINT64_MAX);
    assert_string_equal(w.buf, "18446744073709551615");
    lm_jw_reset(&w);
    lm_jw_i64(&w, INT64_MIN);
    assert_string_equal(w.buf, "-9223372036854775808");
    lm_jw_reset(&w);
    lm_jw_arr_begin(&w);
    lm_jw_i64(&w, INT64_MAX);
    lm_jw_u64(&w, 0);
    lm_jw_i64(&w, 0);
    lm_jw_i64(&w, -1);
    lm_jw_u64(&w, 10);
    lm_jw_arr_end(&w);
    assert_string_equal(w.buf, "[9223372036854775807,0,0,-1,10]");
    lm_jw_free(&w);
}

static void expect_str(const char *in, size_t n, const char *out) {
    lm_jw w;
    lm_jw_init(&w);
    lm_jw_strn(&w, in, n);
    assert_int_equal(w.err, 0);
    assert_string_equal(w.buf, out);
    /* And it reads back as the same bytes. */
    lm_json_doc *doc = lm_json_parse(w.buf, w.len, NULL, 0);
    assert_non_null(doc);
    size_t len;
    const char *s = lm_json_string(lm_json_root(doc), &len);
    assert_int_equal(len, n);
    assert_memory_equal(s, in, n);
    lm_json_free(doc);
    lm_jw_free(&w);
}

static void test_writer_escapes(void **state) {
    (void)state;
    expect_str("", 0, "\"\"");
    expect_str("plain text", 10, "\"plain text\"");
    expect_str("\"\\/", 3, "\"\\\"\\\\/\"");
    expect_str("\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\"");
    expect_str("\x00\x01\x1f\x7f", 4, "\"\\u0000\\u0001\\u001f\x7f\"");
    expect_str("\x0b\x1b", 2, "\"\\u000b\\u001b\"");
    expect_str("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9,
               "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
    expect_str("a\0b", 3, "\"a\\u0000b\"");

    lm_jw w;
    lm_jw_init(&w);
    lm_jw_obj_begin(&w);
    lm_jw_key(&w, "k\"\n");
    lm_jw_str(&w, "v");
    lm_jw_obj_end(&w);
    assert_string_equal(w.buf, "{\"k\\\"\\n\":\"v\"}");
    lm_jw_free(&w);
}

static void expect_fixed(double v, int decimals, const char *out) {
    lm_jw w;
    lm_jw_init(&w);
    lm_jw_fixed(&w, v, decimals);
    assert_int_equal(w.err, 0);
    assert_string_equal(w.buf, out);
    lm_jw_free(&w);
}

static void test_writer_fixed(void **state) {
    (void)state;
    expect_fixed(1.5, 2, "1.50");
    expect_fixed(0.0, 0, "0");
    expect_fixed(-0.0, 1, "-0.0");
    expect_fixed(3.0, 0, "3");
    expect_fixed(2.5, 0, "2"); /* exact ties round to even */
    expect_fixed(3.5, 0, "4");
    expect_fixed(0.125, 2, "0.12");
    expect_fixed(0.375, 2, "0.38");
    expect_fixed(2.675, 2, "2.67"); /* 2.675 is really 2.67499999... */
    expect_fixed(1.005, 2, "1.00");
    expect_fixed(0.1, 17, "0.10000000000000001");
    expect_fixed(0.1, 20, "0.10000000000000001"); /* decimals clamp to 17 */
    expect_fixed(0.1, -5, "0");                   /* ...and to 0 */
    expect_fixed(-1234.5678, 3, "-1234.568");
    expect_fixed(1e21, 0, "1000000000000000000000");
    expect_fixed(123456789.123456789, 6, "123456789.123457");
    expect_fixed(5e-324, 17, "0.00000000000000000");
    expect_fixed(-1e-9, 2, "-0.00");
    expect_fixed(NAN, 2, "null");
    expect_fixed(INFINITY, 2, "null");
    expect_fixed(-INFINITY, 0, "null");

    /* The largest double prints all 309 digits. */
    lm_jw w;
    lm_jw_init(&w);
    lm_jw_fixed(&w, -1.7976931348623157e308, 17);
    assert_int_equal(w.err, 0);
    assert_int_equal(w.len, 1 + 309 + 1 + 17);
    assert_memory_equal(w.buf, "-179769313486231570814527423731704356798070567525844996598917476",
                        64);
    lm_json_doc *doc = lm_json_parse(w.buf, w.len, NULL, 0);
    double d;
    assert_int_equal(lm_json_double(lm_json_root(doc), &d), 0);
    assert_true(d == -1.7976931348623157e308);
    lm_json_free(doc);
    lm_jw_free(&w);
}

static void test_writer_reserve(void **state) {
    (void)state;
    lm_jw w;
    lm_jw_init(&w);
    lm_jw_arr_begin(&w);
    char *p = lm_jw_str_reserve(&w, 3);
    assert_non_null(p);
    memcpy(p, "abc", 3);
    lm_jw_str_commit(&w, 3);
    p = lm_jw_str_reserve(&w, 5); /* fewer bytes than reserved is fine */
    assert_non_null(p);
    memcpy(p, "xy", 2);
    lm_jw_str_commit(&w, 2);
    size_t big = 100000;
    p = lm_jw_str_reserve(&w, big); /* makes the buffer grow */
    assert_non_null(p);
    memset(p, 'z', big);
    lm_jw_str_commit(&w, big);
    lm_jw_u64(&w, 7);
    lm_jw_arr_end(&w);
    assert_int_equal(w.err, 0);
    assert_int_equal(w.len, strlen(w.buf));
    assert_memory_equal(w.buf, "[\"abc\",\"xy\",\"zzz", 16);
    assert_string_equal(w.buf + w.len - 6, "zz\",7]");
    lm_json_doc *doc = lm_json_parse(w.buf, w.len, NULL, 0);
    assert_non_null(doc);
    assert_int_equal(lm_json_size(lm_json_root(doc)), 4);
    lm_json_free(doc);

    /* Inside an object, after a key. */
    lm_jw_reset(&w);
    lm_jw_obj_begin(&w);
    lm_jw_key(&w, "b64");
    p = lm_jw_str_reserve(&w, 4);
    memcpy(p, "QUJD", 4);
    lm_jw_str_commit(&w, 4);
    lm_jw_key(&w, "n");
    lm_jw_u64(&w, 1);
    lm_jw_obj_end(&w);
    assert_string_equal(w.buf, "{\"b64\":\"QUJD\",\"n\":1}");
    lm_jw_free(&w);
}

/* Misuse and excess set err, and later calls change nothing. */
static void test_writer_errors(void **state) {
    (void)state;
    lm_jw w;
    lm_jw_init(&w);
    for (int i = 0; i < LM_JW_MAX_DEPTH; i++)
        lm_jw_arr_begin(&w);
    assert_int_equal(w.err, 0);
    for (int i = 0; i < LM_JW_MAX_DEPTH; i++)
        lm_jw_arr_end(&w);
    assert_int_equal(w.err, 0);
    assert_int_equal(w.len, 2 * LM_JW_MAX_DEPTH);

    lm_jw_reset(&w);
    for (int i = 0; i <= LM_JW_MAX_DEPTH; i++) {
        lm_jw_obj_begin(&w);
        lm_jw_key(&w, "k");
    }
    assert_int_equal(w.err, 1);
    size_t len = w.len;
    lm_jw_u64(&w, 1);
    lm_jw_str(&w, "x");
    lm_jw_obj_end(&w);
    assert_null(lm_jw_str_reserve(&w, 3));
    lm_jw_str_commit(&w, 3);
    assert_int_equal(w.len, len);
    assert_int_equal(w.err, 1);

    /* A value in an object without a key. */
    lm_jw_reset(&w);
    assert_int_equal(w.err, 0);
    lm_jw_obj_begin(&w);
    lm_jw_u64(&w, 1);
    assert_int_equal(w.err, 1);
    /* A key in an array, or at the top level. */
    lm_jw_reset(&w);
    lm_jw_arr_begin(&w);
    lm_jw_key(&w, "k");
    assert_int_equal(w.err, 1);
    lm_jw_reset(&w);
    lm_jw_key(&w, "k");
    assert_int_equal(w.err, 1);
    /* Two keys in a row, a key without value before the end. */
    lm_jw_reset(&w);
    lm_jw_obj_begin(&w);
    lm_jw_key(&w, "k");
    lm_jw_key(&w, "l");
    assert_int_equal(w.err, 1);
    lm_jw_reset(&w);
    lm_jw_obj_begin(&w);
    lm_jw_key(&w, "k");
    lm_jw_obj_end(&w);
    assert_int_equal(w.err, 1);
    /* Mismatched or surplus ends. */
    lm_jw_reset(&w);
    lm_jw_arr_begin(&w);
    lm_jw_obj_end(&w);
    assert_int_equal(w.err, 1);
    lm_jw_reset(&w);
    lm_jw_arr_end(&w);
    assert_int_equal(w.err, 1);
    /* NULL strings and keys (an empty NULL string is just empty). */
    lm_jw_reset(&w);
    lm_jw_strn(&w, NULL, 0);
    assert_int_equal(w.err, 0);
    assert_string_equal(w.buf, "\"\"");
    lm_jw_reset(&w);
    lm_jw_str(&w, NULL);
    assert_int_equal(w.err, 1);
    lm_jw_reset(&w);
    lm_jw_strn(&w, NULL, 1);
    assert_int_equal(w.err, 1);
    lm_jw_reset(&w);
    lm_jw_obj_begin(&w);
    lm_jw_key(&w, NULL);
    assert_int_equal(w.err, 1);
    /* Committing more than was reserved. */
    lm_jw_reset(&w);
    assert_non_null(lm_jw_str_reserve(&w, 2));
    lm_jw_str_commit(&w, w.cap);
    assert_int_equal(w.err, 1);
    lm_jw_free(&w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_big),
        cmocka_unit_test(test_random_values),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_reader_api),
        cmocka_unit_test(test_free_null),
        cmocka_unit_test(test_writer_structure),
        cmocka_unit_test(test_writer_escapes),
        cmocka_unit_test(test_writer_fixed),
        cmocka_unit_test(test_writer_reserve),
        cmocka_unit_test(test_writer_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
