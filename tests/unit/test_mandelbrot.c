/* test_mandelbrot.c -- unit tests of the mandelbrot-bitmap function against a
 * per-pixel rendering of the Benchmarks Game definition written here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "invoke.h"
#include "lumos.h"

extern const lm_function lm_fn_mandelbrot_bitmap;

/* ---- the independent reference ------------------------------------------ */

/* Whether c = cr + ci i stays bounded: one point at a time, z <- z^2 + c
 * from z = 0 for 50 steps, out as soon as |z|^2 > 4. The products are
 * written out in the definition's order (Zr^2 - Zi^2 + Cr, 2 Zr Zi + Ci) so
 * the rounding is the definition's. */
static int inside(double cr, double ci) {
    double zr = 0.0, zi = 0.0;
    for (int step = 0; step < 50; step++) {
        double next_zr = zr * zr - zi * zi + cr;
        double next_zi = 2.0 * zr * zi + ci;
        zr = next_zr;
        zi = next_zi;
        if (zr * zr + zi * zi > 4.0) return 0;
    }
    return 1;
}

/* The whole P4 file for a w x h image, as the Benchmarks Game's programs
 * write it for any width: Cr = 2x/w - 1.5, Ci = 2y/h - 1, rows packed most
 * significant bit first and, when w is no multiple of 8, padded with zero
 * bits to a whole byte. Returns a malloc'd buffer and its length in *len. */
static uint8_t *reference_pbm(uint32_t w, uint32_t h, size_t *len) {
    char header[64];
    int hl = snprintf(header, sizeof(header), "P4\n%u %u\n", w, h);
    size_t row = (w + 7) / 8;
    *len = (size_t)hl + row * h;
    uint8_t *out = calloc(*len, 1);
    assert_non_null(out);
    memcpy(out, header, (size_t)hl);
    uint8_t *bits = out + hl;
    for (uint32_t y = 0; y < h; y++) {
        double ci = 2.0 * y / h - 1.0;
        for (uint32_t x = 0; x < w; x++) {
            double cr = 2.0 * x / w - 1.5;
            if (inside(cr, ci)) bits[y * row + x / 8] |= (uint8_t)(0x80u >> (x % 8));
        }
    }
    return out;
}

/* ---- helpers ------------------------------------------------------------ */

/* Decodes standard base64 with OpenSSL (not the SDK's decoder). */
static uint8_t *decode_base64(const char *s, size_t n, size_t *len) {
    assert_int_equal(n % 4, 0);
    uint8_t *out = malloc(n / 4 * 3 + 1);
    assert_non_null(out);
    int got = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
    assert_true(got >= 0);
    size_t pad = 0;
    if (n >= 1 && s[n - 1] == '=') pad++;
    if (n >= 2 && s[n - 2] == '=') pad++;
    *len = (size_t)got - pad;
    return out;
}

static uint64_t get_u64(const lm_json *obj, const char *key) {
    const lm_json *v = lm_json_get(obj, key);
    assert_non_null(v);
    int64_t i;
    assert_int_equal(lm_json_int(v, &i), 0);
    return (uint64_t)i;
}

static void expect_same(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len) {
    assert_int_equal(got_len, want_len);
    for (size_t i = 0; i < want_len; i++)
        if (got[i] != want[i])
            fail_msg("byte %zu differs: 0x%02x, want 0x%02x", i, got[i], want[i]);
}

/* Renders size inline and checks the reply against the reference for side
 * w (the size rounded up to a multiple of 8). */
static void check_inline(uint32_t size, uint32_t w) {
    char body[96];
    snprintf(body, sizeof(body), "{\"size\":%u}", size);
    lm_test_reply r;
    int status = lm_test_invoke(&lm_fn_mandelbrot_bitmap, body, NULL, &r);
    if (status != 200) fprintf(stderr, "%s\n", r.body);
    assert_int_equal(status, 200);
    const lm_json *data;
    lm_json_doc *doc = lm_test_reply_data(&r, &data);
    assert_non_null(doc);

    size_t want_len;
    uint8_t *want = reference_pbm(w, w, &want_len);
    assert_int_equal(get_u64(data, "width"), w);
    assert_int_equal(get_u64(data, "height"), w);
    assert_int_equal(get_u64(data, "bytes"), want_len);
    assert_int_equal(lm_json_typeof(lm_json_get(data, "output_key")), LM_JSON_NULL);
    size_t b64_len, got_len;
    const char *b64 = lm_json_string(lm_json_get(data, "bitmap_base64"), &b64_len);
    assert_non_null(b64);
    uint8_t *got = decode_base64(b64, b64_len, &got_len);
    expect_same(got, got_len, want, want_len);
    assert_int_equal(r.probes[LM_PROBE_IO_CALLS], 0);

    free(got);
    free(want);
    lm_json_free(doc);
    lm_test_reply_free(&r);
}

/* ---- tests -------------------------------------------------------------- */

static void test_reference_sanity(void **state) {
    (void)state;
    /* The reference itself: the origin and -1 are in the set, the corners
     * of the region and 0.5 are not; a width of 201 pads each row. */
    assert_true(inside(0.0, 0.0));
    assert_true(inside(-1.0, 0.0));
    assert_true(inside(-0.1, 0.1));
    assert_false(inside(-1.5, -1.0));
    assert_false(inside(0.5, 0.0));
    assert_false(inside(0.4, 0.9));
    size_t len;
    uint8_t *pbm = reference_pbm(201, 201, &len);
    assert_int_equal(len, strlen("P4\n201 201\n") + 26 * 201);
    for (uint32_t y = 0; y < 201; y++) /* bits past x = 200 stay zero */
        assert_int_equal(pbm[strlen("P4\n201 201\n") + y * 26 + 25] & 0x7f, 0);
    free(pbm);
}

static void test_inline_sizes(void **state) {
    (void)state;
    check_inline(8, 8);
    check_inline(16, 16);
    check_inline(200, 200);
    check_inline(1000, 1000);
}

static void test_rounds_up_to_multiple_of_8(void **state) {
    (void)state;
    /* The size is rounded up, header included: 201 renders the 208 image,
     * not the Benchmarks Game's padded 201-wide one. */
    check_inline(201, 208);
    check_inline(1, 8);
    check_inline(7, 8);
    check_inline(9, 16);
}

static void test_header_bytes(void **state) {
    (void)state;
    lm_test_reply r;
    assert_int_equal(lm_test_invoke(&lm_fn_mandelbrot_bitmap, "{\"size\":200}", NULL, &r), 200);
    const lm_json *data;
    lm_json_doc *doc = lm_test_reply_data(&r, &data);
    size_t b64_len, len;
    const char *b64 = lm_json_string(lm_json_get(data, "bitmap_base64"), &b64_len);
    uint8_t *pbm = decode_base64(b64, b64_len, &len);
    static const char header[] = "P4\n200 200\n";
    assert_int_equal(len, sizeof(header) - 1 + 200 * 200 / 8);
    assert_memory_equal(pbm, header, sizeof(header) - 1);
    /* c = 0 (x = 150, y = 100) is in the set, c = -1.5 - i (0, 0) is not. */
    const uint8_t *bits = pbm + sizeof(header) - 1;
    assert_true(bits[100 * 25 + 150 / 8] & (0x80 >> (150 % 8)));
    assert_false(bits[0] & 0x80);
    free(pbm);
    lm_json_free(doc);
    lm_test_reply_free(&r);
}

static void check_stored(const char *storage, uint32_t size) {
    lm_test_store *store = lm_test_store_new();
    char body[160];
    if (storage)
        snprintf(body, sizeof(body),
                 "{\"size\":%u,\"output_key\":\"out/m.pbm\",\"storage\":\"%s\"}", size, storage);
    else
        snprintf(body, sizeof(body), "{\"size\":%u,\"output_key\":\"out/m.pbm\"}", size);
    lm_test_reply r;
    int status = lm_test_invoke(&lm_fn_mandelbrot_bitmap, body, store, &r);
    if (status != 200) fprintf(stderr, "%s\n", r.body);
    assert_int_equal(status, 200);
    const lm_json *data;
    lm_json_doc *doc = lm_test_reply_data(&r, &data);
    assert_non_null(doc);
    assert_string_equal(lm_json_string(lm_json_get(data, "output_key"), NULL), "out/m.pbm");
    assert_null(lm_json_get(data, "bitmap_base64"));

    size_t want_len, got_len;
    uint8_t *want = reference_pbm(size, size, &want_len);
    const uint8_t *got = lm_test_store_get(store, "out/m.pbm", &got_len);
    assert_non_null(got);
    expect_same(got, got_len, want, want_len);
    assert_int_equal(get_u64(data, "bytes"), want_len);
    assert_int_equal(r.probes[LM_PROBE_IO_CALLS], 1);
    assert_int_equal(r.probes[LM_PROBE_IO_WRITE_BYTES], want_len);
    assert_int_equal(r.probes[LM_PROBE_IO_READ_BYTES], 0);

    free(want);
    lm_json_free(doc);
    lm_test_reply_free(&r);
    lm_test_store_free(store);
}

static void test_through_store(void **state) {
    (void)state;
    check_stored(NULL, 200); /* redis, the default once a key is given */
    check_stored("redis", 16);
    check_stored("file", 1000);
    check_stored("redis", 2896); /* a benchmark size that is no power of 2 */
}

static void test_inline_with_key_stays_inline(void **state) {
    (void)state;
    lm_test_store *store = lm_test_store_new();
    lm_test_reply r;
    assert_int_equal(lm_test_invoke(&lm_fn_mandelbrot_bitmap,
                                    "{\"size\":16,\"output_key\":\"k\",\"storage\":\"inline\"}",
                                    store, &r),
                     200);
    size_t n;
    assert_null(lm_test_store_get(store, "k", &n));
    assert_non_null(strstr(r.body, "\"bitmap_base64\":"));
    lm_test_reply_free(&r);
    lm_test_store_free(store);
}

static void expect_status(const char *body, lm_test_store *store, int want, const char *code) {
    lm_test_reply r;
    int status = lm_test_invoke(&lm_fn_mandelbrot_bitmap, body, store, &r);
    if (status != want) fprintf(stderr, "expected %d for %s, got: %s\n", want, body, r.body);
    assert_int_equal(status, want);
    char quoted[64];
    snprintf(quoted, sizeof(quoted), "\"error\":\"%s\"", code);
    assert_non_null(strstr(r.body, quoted));
    lm_test_reply_free(&r);
}

static void test_bad_input(void **state) {
    (void)state;
    lm_test_store *store = lm_test_store_new();
    expect_status("{\"size\":0}", NULL, 400, "bad_request");
    expect_status("{\"size\":16385}", NULL, 400, "bad_request");
    expect_status("{\"size\":-8}", NULL, 400, "bad_request");
    expect_status("{\"size\":8.5}", NULL, 400, "bad_request");
    expect_status("{\"size\":\"200\"}", NULL, 400, "bad_request");
    expect_status("{}", NULL, 400, "bad_request");
    expect_status("{\"size\":8,\"storage\":\"redis\"}", store, 400, "bad_request");
    expect_status("{\"size\":8,\"storage\":\"ftp\",\"output_key\":\"k\"}", store, 400,
                  "bad_request");
    expect_status("{\"size\":8,\"output_key\":\"../k\"}", store, 400, "bad_request");
    expect_status("{\"size\":8,\"output_key\":7}", store, 400, "bad_request");
    /* A storage fault (no store behind the channel) is the function's 500. */
    expect_status("{\"size\":8,\"output_key\":\"k\"}", NULL, 500, "storage_error");
    lm_test_store_free(store);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_sanity),
        cmocka_unit_test(test_inline_sizes),
        cmocka_unit_test(test_rounds_up_to_multiple_of_8),
        cmocka_unit_test(test_header_bytes),
        cmocka_unit_test(test_through_store),
        cmocka_unit_test(test_inline_with_key_stays_inline),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
