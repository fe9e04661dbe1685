/* test_audio.c -- unit tests of the audio-generation function: WAV header
 * fields, exact sizes, acceptance by sox's soxi, sine accuracy against libm,
 * inline output, and bad input. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "invoke.h"
#include "lumos.h"

extern const lm_function lm_fn_audio_generation;

/* ---- helpers ------------------------------------------------------------ */

static uint32_t le16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t le32(const uint8_t *p) { return le16(p) | le16(p + 2) << 16; }
static int16_t sample_at(const uint8_t *wav, uint32_t i) {
    return (int16_t)(uint16_t)le16(wav + 44 + 2 * (size_t)i);
}

static uint64_t get_u64(const lm_json *obj, const char *key) {
    const lm_json *v = lm_json_get(obj, key);
    assert_non_null(v);
    int64_t i;
    assert_int_equal(lm_json_int(v, &i), 0);
    assert_true(i >= 0);
    return (uint64_t)i;
}

/* Generates a file under key "a.wav" in a fresh store with the given extra
 * request members, checks the reply against the expected size and returns
 * the stored bytes (malloc'd copy; *len set). */
static uint8_t *generate(const char *extra, uint32_t size_kb, size_t *len) {
    char body[256];
    snprintf(body, sizeof(body), "{\"size_kb\":%u,\"output_key\":\"a.wav\"%s}", size_kb, extra);
    lm_test_store *store = lm_test_store_new();
    lm_test_reply r;
    int status = lm_test_invoke(&lm_fn_audio_generation, body, store, &r);
    if (status != 200) fprintf(stderr, "unexpected reply to %s: %s\n", body, r.body);
    assert_int_equal(status, 200);
    const lm_json *data;
    lm_json_doc *doc = lm_test_reply_data(&r, &data);
    assert_non_null(doc);
    uint64_t total = (uint64_t)size_kb * 1024;
    assert_int_equal(get_u64(data, "bytes"), total);
    assert_int_equal(get_u64(data, "samples"), (total - 44) / 2);
    assert_string_equal(lm_json_string(lm_json_get(data, "output_key"), NULL), "a.wav");
    assert_null(lm_json_get(data, "wav_base64"));
    /* Storage bytes are counted as written, and the work as compute. */
    assert_int_equal(r.probes[LM_PROBE_IO_WRITE_BYTES], total);
    assert_int_equal(r.probes[LM_PROBE_IO_CALLS], 1);
    const uint8_t *stored = lm_test_store_get(store, "a.wav", len);
    assert_non_null(stored);
    assert_int_equal(*len, total);
    uint8_t *copy = malloc(*len);
    memcpy(copy, stored, *len);
    lm_json_free(doc);
    lm_test_reply_free(&r);
    lm_test_store_free(store);
    return copy;
}

/* Expects a 400 "bad_request" whose message names field. */
static void expect_bad(const char *body, const char *field) {
    lm_test_store *store = lm_test_store_new();
    lm_test_reply r;
    int status = lm_test_invoke(&lm_fn_audio_generation, body, store, &r);
    if (status != 400) fprintf(stderr, "expected 400 for %s, got: %s\n", body, r.body);
    assert_int_equal(status, 400);
    lm_json_doc *doc = lm_json_parse(r.body, r.body_len, NULL, 0);
    assert_non_null(doc);
    const lm_json *root = lm_json_root(doc);
    assert_string_equal(lm_json_string(lm_json_get(root, "error"), NULL), "bad_request");
    const char *msg = lm_json_string(lm_json_get(root, "message"), NULL);
    assert_non_null(msg);
    if (!strstr(msg, field)) fprintf(stderr, "message '%s' does not name %s\n", msg, field);
    assert_non_null(strstr(msg, field));
    size_t n;
    assert_null(lm_test_store_get(store, "a.wav", &n)); /* nothing written */
    lm_json_free(doc);
    lm_test_reply_free(&r);
    lm_test_store_free(store);
}

/* ---- header and sizes ----------------------------------------------------- */

static void test_header_known_answer(void **state) {
    (void)state;
    size_t len;
    uint8_t *w = generate("", 1, &len);
    assert_memory_equal(w, "RIFF", 4);
    assert_int_equal(le32(w + 4), 1024 - 8);
    assert_memory_equal(w + 8, "WAVEfmt ", 8);
    assert_int_equal(le32(w + 16), 16);
    assert_int_equal(le16(w + 20), 1); /* PCM */
    assert_int_equal(le16(w + 22), 1); /* mono */
    assert_int_equal(le32(w + 24), 44100);
    assert_int_equal(le32(w + 28), 88200);
    assert_int_equal(le16(w + 32), 2);
    assert_int_equal(le16(w + 34), 16);
    assert_memory_equal(w + 36, "data", 4);
    assert_int_equal(le32(w + 40), 1024 - 44);
    /* The first samples of a 440 Hz sine at 44100/s: 0, then
     * round(32000 sin(2 pi 440/44100)) = round(2004.746...) = 2005. */
    assert_int_equal(sample_at(w, 0), 0);
    assert_int_equal(sample_at(w, 1), 2005);
    free(w);

    w = generate(",\"sample_rate\":8000,\"frequency_hz\":2000", 1, &len);
    assert_int_equal(le32(w + 24), 8000);
    assert_int_equal(le32(w + 28), 16000);
    /* A quarter of the rate gives exactly 0, A, 0, -A, ... */
    for (uint32_t i = 0; i < 8; i++) {
        static const int16_t want[4] = {0, 32000, 0, -32000};
        assert_int_equal(sample_at(w, i), want[i % 4]);
    }
    free(w);
}

static void test_reply_fields(void **state) {
    (void)state;
    lm_test_store *store = lm_test_store_new();
    lm_test_reply r;
    const char *body = "{\"size_kb\":50,\"output_key\":\"x/y.wav\",\"storage\":\"file\","
                       "\"frequency_hz\":1000,\"sample_rate\":48000}";
    assert_int_equal(lm_test_invoke(&lm_fn_audio_generation, body, store, &r), 200);
    /* The reply's bytes as written, so the fixed-decimal duration is checked
     * exactly: 25578 samples at 48000/s is 532.875 ms. */
    assert_non_null(strstr(r.body, "\"output_key\":\"x/y.wav\",\"bytes\":51200,\"samples\":25578,"
                                   "\"sample_rate\":48000,\"frequency_hz\":1000,"
                                   "\"duration_ms\":532.875"));
    lm_test_reply_free(&r);
    lm_test_store_free(store);
}

static void test_sizes_exact(void **state) {
    (void)state;
    static const uint32_t sizes[] = {1, 2, 7, 50, 333, 1024};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t len;
        uint8_t *w = generate("", sizes[k], &len);
        assert_int_equal(len, (size_t)sizes[k] * 1024);
        assert_int_equal(le32(w + 4), len - 8);
        assert_int_equal(le32(w + 40), len - 44);
        free(w);
    }
}

static void test_largest_size(void **state) {
    (void)state;
    size_t len;
    uint8_t *w = generate("", 32768, &len);
    assert_int_equal(len, 32u << 20);
    /* The last sample still follows the sine (phase exact at any length). */
    uint32_t last = (uint32_t)((len - 44) / 2 - 1);
    double want = round(32000.0 * sin(2.0 * M_PI * fmod(440.0 * last, 44100.0) / 44100.0));
    assert_true(fabs(sample_at(w, last) - want) <= 1.0);
    free(w);
}

/* ---- soxi ------------------------------------------------------------------ */

/* Runs `soxi <opt> path` and returns its first output line (static). */
static const char *soxi(const char *opt, const char *path) {
    static char line[256];
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "soxi %s '%s' 2>&1", opt, path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    line[0] = 0;
    if (!fgets(line, sizeof(line), p)) line[0] = 0;
    int rc = pclose(p);
    if (rc != 0) fprintf(stderr, "%s failed: %s\n", cmd, line);
    assert_int_equal(rc, 0);
    line[strcspn(line, "\n")] = 0;
    return line;
}

static void check_with_soxi(const char *extra, uint32_t size_kb, uint32_t rate) {
    size_t len;
    uint8_t *w = generate(extra, size_kb, &len);
    char path[] = "/tmp/lm_test_audio_XXXXXX.wav";
    int fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, w, len), (ssize_t)len);
    close(fd);
    uint64_t samples = (len - 44) / 2;
    assert_string_equal(soxi("-t", path), "wav");
    assert_string_equal(soxi("-c", path), "1");
    assert_int_equal(strtoul(soxi("-r", path), NULL, 10), rate);
    assert_string_equal(soxi("-p", path), "16");
    assert_string_equal(soxi("-b", path), "16");
    assert_string_equal(soxi("-e", path), "Signed Integer PCM");
    assert_int_equal(strtoull(soxi("-s", path), NULL, 10), samples);
    double d = strtod(soxi("-D", path), NULL);
    assert_true(fabs(d - (double)samples / rate) < 1e-5);
    unlink(path);
    free(w);
}

static void test_soxi_accepts(void **state) {
    (void)state;
    check_with_soxi("", 1, 44100);
    check_with_soxi("", 50, 44100);
    check_with_soxi(",\"sample_rate\":8000,\"frequency_hz\":100", 7, 8000);
    check_with_soxi(",\"sample_rate\":192000,\"frequency_hz\":20000", 512, 192000);
}

/* ---- sine accuracy ----------------------------------------------------------- */

/* Every sample within one step of round(A sin(2 pi f i / rate)) by libm,
 * and almost all of them equal to it (a difference needs the exact value
 * within about 1e-9 of a half step). */
static void check_sine(uint32_t freq, uint32_t rate, uint32_t size_kb) {
    char extra[96];
    snprintf(extra, sizeof(extra), ",\"frequency_hz\":%u,\"sample_rate\":%u", freq, rate);
    size_t len;
    uint8_t *w = generate(extra, size_kb, &len);
    uint32_t n = (uint32_t)((len - 44) / 2);
    uint32_t differ = 0;
    for (uint32_t i = 0; i < n; i++) {
        double want = round(32000.0 * sin(2.0 * M_PI * (double)freq * (double)i / (double)rate));
        double d = fabs((double)sample_at(w, i) - want);
        if (d > 1.0)
            fprintf(stderr, "f=%u rate=%u sample %u: %d, libm %.0f\n", freq, rate, i,
                    sample_at(w, i), want);
        assert_true(d <= 1.0);
        if (d != 0) differ++;
    }
    assert_true(differ <= n / 10000 + 1);
    free(w);
}

static void test_sine_accuracy(void **state) {
    (void)state;
    check_sine(440, 44100, 1024);
    check_sine(1000, 8000, 64);
    check_sine(3999, 8000, 64);
    check_sine(1, 8000, 64);
    check_sine(20000, 192000, 1024);
    check_sine(12345, 96000, 256);
    check_sine(7, 44101, 256);
}

/* ---- inline ---------------------------------------------------------------- */

static void test_inline_base64(void **state) {
    (void)state;
    size_t len;
    uint8_t *w = generate("", 3, &len);
    lm_test_reply r;
    /* No key and no storage: inline, the file comes back in the reply. */
    assert_int_equal(lm_test_invoke(&lm_fn_audio_generation, "{\"size_kb\":3}", NULL, &r), 200);
    const lm_json *data;
    lm_json_doc *doc = lm_test_reply_data(&r, &data);
    assert_non_null(doc);
    assert_non_null(lm_json_get(data, "output_key"));
    assert_int_equal(lm_json_typeof(lm_json_get(data, "output_key")), LM_JSON_NULL);
    size_t n;
    const char *b64 = lm_json_string(lm_json_get(data, "wav_base64"), &n);
    assert_non_null(b64);
    assert_int_equal(n, (3072 + 2) / 3 * 4);
    uint8_t *dec = malloc(n / 4 * 3);
    assert_int_equal(lm_base64_decode(b64, n, dec), 3072);
    assert_memory_equal(dec, w, len);
    assert_int_equal(r.probes[LM_PROBE_IO_CALLS], 0);
    free(dec);
    free(w);
    lm_json_free(doc);
    lm_test_reply_free(&r);

    /* Inline wins over a key: nothing is stored and no key is named. */
    lm_test_store *store = lm_test_store_new();
    const char *body = "{\"size_kb\":1,\"storage\":\"inline\",\"output_key\":\"a.wav\"}";
    assert_int_equal(lm_test_invoke(&lm_fn_audio_generation, body, store, &r), 200);
    assert_non_null(strstr(r.body, "\"output_key\":null,\"bytes\":1024,"));
    assert_non_null(strstr(r.body, "\"wav_base64\":\"UklGRvgDAABXQVZF"));
    assert_null(lm_test_store_get(store, "a.wav", &len));
    lm_test_reply_free(&r);
    lm_test_store_free(store);
}

/* ---- bad input ----------------------------------------------------------------- */

static void test_bad_input(void **state) {
    (void)state;
    expect_bad("{\"output_key\":\"a.wav\"}", "size_kb");
    expect_bad("{\"size_kb\":0,\"output_key\":\"a.wav\"}", "size_kb");
    expect_bad("{\"size_kb\":32769,\"output_key\":\"a.wav\"}", "size_kb");
    expect_bad("{\"size_kb\":99999999999999,\"output_key\":\"a.wav\"}", "size_kb");
    expect_bad("{\"size_kb\":-1,\"output_key\":\"a.wav\"}", "size_kb");
    expect_bad("{\"size_kb\":1.5,\"output_key\":\"a.wav\"}", "size_kb");
    expect_bad("{\"size_kb\":\"1\",\"output_key\":\"a.wav\"}", "size_kb");
    expect_bad("{\"size_kb\":1,\"output_key\":\"a.wav\",\"frequency_hz\":22050}", "frequency_hz");
    expect_bad("{\"size_kb\":1,\"output_key\":\"a.wav\",\"frequency_hz\":4000,"
               "\"sample_rate\":8000}",
               "frequency_hz");
    expect_bad("{\"size_kb\":1,\"output_key\":\"a.wav\",\"frequency_hz\":0}", "frequency_hz");
    expect_bad("{\"size_kb\":1,\"output_key\":\"a.wav\",\"frequency_hz\":440.5}", "frequency_hz");
    expect_bad("{\"size_kb\":1,\"output_key\":\"a.wav\",\"sample_rate\":7999}", "sample_rate");
    expect_bad("{\"size_kb\":1,\"output_key\":\"a.wav\",\"sample_rate\":192001}", "sample_rate");
    expect_bad("{\"size_kb\":1,\"storage\":\"redis\"}", "output_key");
    expect_bad("{\"size_kb\":1,\"storage\":\"file\"}", "output_key");
    expect_bad("{\"size_kb\":1,\"output_key\":7}", "output_key");
    expect_bad("{\"size_kb\":1,\"output_key\":\"a.wav\",\"storage\":\"ftp\"}", "storage");
    expect_bad("{\"size_kb\":1,\"output_key\":\"../a.wav\"}", "storage key");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_known_answer), cmocka_unit_test(test_reply_fields),
        cmocka_unit_test(test_sizes_exact),         cmocka_unit_test(test_largest_size),
        cmocka_unit_test(test_soxi_accepts),        cmocka_unit_test(test_sine_accuracy),
        cmocka_unit_test(test_inline_base64),       cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
