/* test_sdk.c -- the SDK in-process: frame headers, RESULT records, base64,
 * storage keys, request fields, the envelope and the phase clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "invoke.h"
#include "sdk/internal.h"

extern const lm_function lm_fn_noop;

static void test_frame_round_trip(void **state) {
    (void)state;
    uint8_t h[LM_FRAME_HEADER];
    char err[128];
    for (uint8_t t = 1; t <= LM_FRAME_TYPE_MAX; t++) {
        uint32_t lens[] = {0, 1, 255, 65536, LM_FRAME_MAX};
        for (size_t i = 0; i < 5; i++) {
            lm_frame_encode(h, t, lens[i]);
            lm_frame_header d;
            assert_int_equal(lm_frame_decode(h, &d, err, sizeof(err)), 0);
            assert_int_equal(d.type, t);
            assert_int_equal(d.len, lens[i]);
        }
    }
    /* The header is little-endian with the magic first. */
    lm_frame_encode(h, LM_FRAME_INVOKE, 0x01020304);
    const uint8_t want[] = {0x4C, 2, 0, 0, 4, 3, 2, 1};
    assert_memory_equal(h, want, sizeof(want));
}

static void test_frame_rejects(void **state) {
    (void)state;
    uint8_t h[LM_FRAME_HEADER];
    char err[128];
    lm_frame_header d;
    lm_frame_encode(h, LM_FRAME_INVOKE, LM_FRAME_MAX + 1);
    assert_int_equal(lm_frame_decode(h, &d, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "past the limit"));
    lm_frame_encode(h, LM_FRAME_INVOKE, 1);
    h[0] = '{'; /* a stray printf */
    assert_int_equal(lm_frame_decode(h, &d, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "magic"));
    lm_frame_encode(h, 0, 1);
    assert_int_equal(lm_frame_decode(h, &d, err, sizeof(err)), -1);
    lm_frame_encode(h, LM_FRAME_TYPE_MAX + 1, 1);
    assert_int_equal(lm_frame_decode(h, &d, err, sizeof(err)), -1);
    lm_frame_encode(h, LM_FRAME_LOG, 1);
    h[3] = 1;
    assert_int_equal(lm_frame_decode(h, &d, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "reserved"));
}

static void test_result_decode(void **state) {
    (void)state;
    uint8_t buf[64];
    lm_put_u16(buf, 404);
    lm_put_u16(buf + 2, 2); /* an older, shorter probe record */
    lm_put_u64(buf + 4, 11);
    lm_put_u64(buf + 12, 22);
    memcpy(buf + 20, "{}", 2);
    int status;
    uint64_t p[LM_PROBE_COUNT];
    const uint8_t *body;
    size_t blen;
    assert_int_equal(lm_result_decode(buf, 22, &status, p, &body, &blen), 0);
    assert_int_equal(status, 404);
    assert_int_equal(p[0], 11);
    assert_int_equal(p[1], 22);
    assert_int_equal(p[2], 0);
    assert_int_equal(blen, 2);
    assert_memory_equal(body, "{}", 2);
    assert_int_equal(lm_result_decode(buf, 3, &status, p, &body, &blen), -1);
    assert_int_equal(lm_result_decode(buf, 19, &status, p, &body, &blen), -1);
}

static void test_base64(void **state) {
    (void)state;
    /* RFC 4648 section 10. */
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    char enc[16];
    uint8_t dec[16];
    for (int i = 0; i < 7; i++) {
        size_t n = strlen(in[i]);
        assert_int_equal(lm_base64_encoded_len(n), strlen(out[i]));
        assert_int_equal(lm_base64_encode((const uint8_t *)in[i], n, enc), strlen(out[i]));
        assert_memory_equal(enc, out[i], strlen(out[i]));
        assert_int_equal(lm_base64_decode(out[i], strlen(out[i]), dec), (long)n);
        assert_memory_equal(dec, in[i], n);
    }
    const char *bad[] = {"Zg=", "Z===", "Zg=a", "Zm9v!A==", "Zh==", "Zm9=", "=Zg="};
    for (int i = 0; i < 7; i++)
        assert_int_equal(lm_base64_decode(bad[i], strlen(bad[i]), dec), -1);
    /* Every byte outside the alphabet is rejected, in any position. */
    for (int c = 0; c < 256; c++) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '+' || c == '/')
            continue;
        char q[9] = "QUJDRA==";
        for (int pos = 0; pos < 6; pos++) {
            char t[9];
            memcpy(t, "QUJDQUJD", 9);
            t[pos] = (char)c;
            assert_int_equal(lm_base64_decode(t, 8, dec), -1);
        }
        q[0] = (char)c;
        assert_int_equal(lm_base64_decode(q, 8, dec), -1);
    }
    /* Every length and byte value round-trips. */
    uint8_t raw[300], back[300];
    char text[400];
    for (int i = 0; i < 300; i++)
        raw[i] = (uint8_t)(i * 37 + 11);
    for (size_t n = 0; n <= 300; n++) {
        size_t e = lm_base64_encode(raw, n, text);
        assert_int_equal(lm_base64_decode(text, e, back), (long)n);
        assert_memory_equal(raw, back, n);
    }
}

static void test_key_check(void **state) {
    (void)state;
    char err[256];
    const char *good[] = {"a", "fuzzy-search/2.txt", "A_b.c-d/e/f", "x..y"};
    const char *bad[] = {"",   "/etc/passwd", "../x", "a/../b", "a//b",
                         "a/", "..",          "a b",  "a\\b",   "k\xc3\xa9"};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(lm__key_check(good[i], err, sizeof(err)), 0);
    for (size_t i = 0; i < 10; i++)
        assert_int_equal(lm__key_check(bad[i], err, sizeof(err)), -1);
}

static void test_text_helpers(void **state) {
    (void)state;
    char d[21];
    assert_int_equal(lm_u64_dec(0, d), 1);
    assert_memory_equal(d, "0", 1);
    assert_int_equal(lm_u64_dec(UINT64_MAX, d), 20);
    assert_memory_equal(d, "18446744073709551615", 20);
    assert_int_equal(lm_u64_dec(1000000000, d), 10);
    assert_memory_equal(d, "1000000000", 10);
    /* UTF-8: every scalar value round-trips; bad forms are rejected. */
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp += (cp < 0x1000 ? 1 : 97)) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        uint8_t b[4];
        uint32_t back;
        size_t n = lm_utf8_put(cp, b);
        assert_int_equal(lm_utf8_next(b, n, &back), n);
        assert_int_equal(back, cp);
        assert_true(lm_utf8_valid(b, n));
        if (n > 1) assert_false(lm_utf8_valid(b, n - 1)); /* truncated */
    }
    const char *bad[] = {"\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                         "\x80",     "\xff",         "a\xe2\x82"};
    for (size_t i = 0; i < 6; i++)
        assert_false(lm_utf8_valid((const uint8_t *)bad[i], strlen(bad[i])));
    assert_true(lm_utf8_valid((const uint8_t *)"\xef\xbf\xbd", 3)); /* U+FFFD itself */
    uint32_t cp;
    assert_int_equal(lm_utf8_next((const uint8_t *)"\xc0\x80", 2, &cp), 1);
    assert_int_equal(cp, LM_UTF8_REPLACEMENT);
}

static int reply_error(const char *body, lm_test_store *store, const char *code) {
    lm_test_reply r;
    int status = lm_test_invoke(&lm_fn_noop, body, store, &r);
    lm_json_doc *doc = lm_json_parse(r.body, r.body_len, NULL, 0);
    assert_non_null(doc);
    const char *got = lm_json_string(lm_json_get(lm_json_root(doc), "error"), NULL);
    assert_non_null(got);
    assert_string_equal(got, code);
    lm_json_free(doc);
    lm_test_reply_free(&r);
    return status;
}

static void test_envelope_and_errors(void **state) {
    (void)state;
    lm_test_reply r;
    assert_int_equal(lm_test_invoke(&lm_fn_noop, "{\"echo\":\"a\\\"b\"}", NULL, &r), 200);
    assert_string_equal(r.body, "{\"status\":\"ok\",\"function\":\"noop\",\"runtime\":\"test\","
                                "\"data\":{\"bytes\":0,\"echo\":\"a\\\"b\"}}");
    lm_test_reply_free(&r);
    assert_int_equal(reply_error("not json", NULL, "bad_request"), 400);
    assert_int_equal(reply_error("", NULL, "bad_request"), 400);
    assert_int_equal(reply_error("[1,2]", NULL, "bad_request"), 400);
    assert_int_equal(reply_error("{\"echo\":5}", NULL, "bad_request"), 400);
    assert_int_equal(reply_error("{\"storage\":\"s3\"}", NULL, "bad_request"), 400);
    assert_int_equal(reply_error("{\"input_key\":\"../etc/passwd\"}", NULL, "bad_request"), 400);
    lm_test_store *s = lm_test_store_new();
    assert_int_equal(reply_error("{\"input_key\":\"missing\"}", s, "not_found"), 404);
    /* No store behind the SDK: a storage fault, 500. */
    assert_int_equal(reply_error("{\"input_key\":\"x\"}", NULL, "storage_error"), 500);
    lm_test_store_free(s);
    lm_test_store_free(NULL);
    lm_test_reply_free(NULL);
}

static void test_storage_probes_add_up(void **state) {
    (void)state;
    lm_test_store *s = lm_test_store_new();
    static char big[1 << 20];
    memset(big, 'x', sizeof(big));
    lm_test_store_put(s, "big", big, sizeof(big));
    lm_test_reply r;
    assert_int_equal(lm_test_invoke(&lm_fn_noop, "{\"input_key\":\"big\"}", s, &r), 200);
    assert_non_null(strstr(r.body, "\"bytes\":1048576"));
    assert_int_equal(r.probes[LM_PROBE_IO_READ_BYTES], sizeof(big));
    assert_int_equal(r.probes[LM_PROBE_IO_WRITE_BYTES], 0);
    assert_int_equal(r.probes[LM_PROBE_IO_CALLS], 1);
    assert_true(r.probes[LM_PROBE_IO_NS] > 0);
    uint64_t sum = r.probes[LM_PROBE_DESER_NS] + r.probes[LM_PROBE_IO_NS] +
                   r.probes[LM_PROBE_COMPUTE_NS] + r.probes[LM_PROBE_SER_NS];
    assert_int_equal(sum, r.probes[LM_PROBE_TOTAL_NS]);
    lm_test_reply_free(&r);
    lm_test_store_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_round_trip),    cmocka_unit_test(test_frame_rejects),
        cmocka_unit_test(test_result_decode),       cmocka_unit_test(test_base64),
        cmocka_unit_test(test_text_helpers),        cmocka_unit_test(test_key_check),
        cmocka_unit_test(test_envelope_and_errors), cmocka_unit_test(test_storage_probes_add_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
