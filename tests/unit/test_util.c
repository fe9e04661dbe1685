/* test_util.c -- the host's shared helpers that have one home in util/:
 * FNV-1a 64 (published values; pieces equal the whole; a file equals its
 * bytes), the CSV writer (RFC 4180 quoting, the one-line and always-quote
 * flags) and the whole-file reader (regular files, pipes, the size limit,
 * clear errors). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/csv.h"
#include "util/hash.h"
#include "util/util.h"

/* RFC 3339 times as runc writes them: known answers (epoch seconds from
 * Python's calendar.timegm), fractions of every length, and everything
 * else refused with 0. */
static void test_rfc3339(void **state) {
    (void)state;
    assert_int_equal(lm_rfc3339_ns("2026-12-02T07:40:01.123456789Z"), 1796197201123456789ull);
    assert_int_equal(lm_rfc3339_ns("2026-12-02T07:40:01Z"), 1796197201000000000ull);
    assert_int_equal(lm_rfc3339_ns("2026-12-02T07:40:01.5Z"), 1796197201500000000ull);
    assert_int_equal(lm_rfc3339_ns("2026-12-02T07:40:01.12345678912Z"), 1796197201123456789ull);
    assert_int_equal(lm_rfc3339_ns("2024-02-29T23:59:59.000000001Z"), 1709251199000000001ull);
    assert_int_equal(lm_rfc3339_ns("1970-01-01T00:00:00Z"), 0); /* the epoch itself reads as none */
    const char *bad[] = {NULL, "", "2026-12-02", "2026-12-02T07:40:01", "2026-12-02T07:40:01+01:00",
                         "2026-12-02T07:40:01.Z", "2026-12-02T07:40:01.5Zx", "2026-13-02T07:40:01Z",
                         "2026-12-32T07:40:01Z", "2026-12-02T24:40:01Z", "2026-12-02 07:40:01Z",
                         "1969-12-31T23:59:59Z", "+026-12-02T07:40:01Z", "2026-1a-02T07:40:01Z",
                         /* the fuzzer's finds: past 64 bits of ns, a day February lacks */
                         "4052-12-02T07:40:01Z", "2023-02-29T23:59:59.5Z"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (lm_rfc3339_ns(bad[i]) != 0) fail_msg("\"%s\" was taken", bad[i] ? bad[i] : "NULL");
}

static void test_fnv_known(void **state) {
    (void)state;
    /* Published FNV-1a 64 values (the FNV authors' test suite). */
    assert_true(lm_fnv1a64(LM_FNV1A64_INIT, "", 0) == 0xcbf29ce484222325ull);
    assert_true(lm_fnv1a64(LM_FNV1A64_INIT, "a", 1) == 0xaf63dc4c8601ec8cull);
    assert_true(lm_fnv1a64(LM_FNV1A64_INIT, "foobar", 6) == 0x85944171f73967e8ull);
    /* Fed in pieces, the same value. */
    uint64_t h = lm_fnv1a64(LM_FNV1A64_INIT, "foo", 3);
    assert_true(lm_fnv1a64(h, "bar", 3) == 0x85944171f73967e8ull);
}

static void test_fnv_file(void **state) {
    (void)state;
    char path[] = "/tmp/lumos-test-util-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    /* More than the reader's 64 KiB piece, so the pieces join. */
    size_t n = 200000;
    char *data = malloc(n);
    assert_non_null(data);
    for (size_t i = 0; i < n; i++)
        data[i] = (char)(i * 7 + i / 251);
    assert_int_equal(write(fd, data, n), (ssize_t)n);
    close(fd);
    uint64_t h = 0;
    char err[LM_ERRLEN];
    assert_int_equal(lm_fnv1a64_file(LM_FNV1A64_INIT, path, &h, err), LM_OK);
    assert_true(h == lm_fnv1a64(LM_FNV1A64_INIT, data, n));
    unlink(path);
    assert_int_equal(lm_fnv1a64_file(LM_FNV1A64_INIT, path, &h, err), LM_ERR);
    assert_non_null(strstr(err, path));
    free(data);
}

/* What lm_csv_field writes for s with flags, as a string. */
static char *csv(const char *s, int flags) {
    static char out[256];
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    assert_non_null(f);
    lm_csv_field(f, s, s ? strlen(s) : 0, flags);
    fclose(f);
    snprintf(out, sizeof(out), "%s", buf);
    free(buf);
    return out;
}

static void test_csv(void **state) {
    (void)state;
    assert_string_equal(csv("plain", 0), "plain");
    assert_string_equal(csv("", 0), "");
    assert_string_equal(csv(NULL, 0), "");
    assert_string_equal(csv("", LM_CSV_QUOTE), "\"\"");
    assert_string_equal(csv("a,b", 0), "\"a,b\"");
    assert_string_equal(csv("say \"hi\"", 0), "\"say \"\"hi\"\"\"");
    assert_string_equal(csv("two\nlines", 0), "\"two\nlines\"");
    assert_string_equal(csv("two\r\nlines", LM_CSV_ONE_LINE), "\"two  lines\"");
    assert_string_equal(csv("x", LM_CSV_QUOTE | LM_CSV_ONE_LINE), "\"x\"");
}

static void test_file_read(void **state) {
    (void)state;
    char path[] = "/tmp/lumos-test-util-XXXXXX", err[LM_ERRLEN];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "0123456789", 10), 10);
    close(fd);
    size_t len = 0;
    char *t = lm_file_read(path, &len, err);
    assert_non_null(t);
    assert_int_equal(len, 10);
    assert_string_equal(t, "0123456789");
    free(t);
    /* At the limit it is read, one byte past it is refused. */
    t = lm_file_read_max(path, 10, &len, err);
    assert_non_null(t);
    free(t);
    assert_null(lm_file_read_max(path, 9, &len, err));
    assert_non_null(strstr(err, "larger than the limit of 9 bytes"));
    unlink(path);
    assert_null(lm_file_read(path, &len, err));
    assert_non_null(strstr(err, "cannot open: No such file"));
    assert_null(lm_file_read("/tmp", &len, err));
    assert_non_null(strstr(err, "/tmp: cannot read"));
}

/* A pipe says nothing of its size: the buffer grows. */
static void test_file_read_pipe(void **state) {
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    size_t n = 50000; /* under the pipe's 64 KiB, so one write suffices */
    char *data = malloc(n);
    assert_non_null(data);
    memset(data, 'x', n);
    assert_int_equal(write(p[1], data, n), (ssize_t)n);
    close(p[1]);
    char path[64], err[LM_ERRLEN];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
    size_t len = 0;
    char *t = lm_file_read(path, &len, err);
    assert_non_null(t);
    assert_int_equal(len, n);
    assert_memory_equal(t, data, n);
    assert_int_equal(t[n], 0);
    free(t);
    free(data);
    close(p[0]);
}

/* UTF-8 sequences by Unicode's table 3-7: lengths of valid ones, 0 for
 * overlong forms, surrogates, values above U+10FFFF, stray continuation
 * bytes and sequences cut short. */
static void test_utf8_len(void **state) {
    (void)state;
    const struct {
        const char *s;
        size_t n, want;
    } cases[] = {
        {"a", 1, 1},
        {"\xC3\xA9", 2, 2},
        {"\xE2\x82\xAC", 3, 3},
        {"\xF0\x9F\x98\x80", 4, 4},
        {"\xC0\x80", 2, 0},
        {"\xC1\xBF", 2, 0},
        {"\xE0\x80\x80", 3, 0},
        {"\xED\xA0\x80", 3, 0},
        {"\xF4\x90\x80\x80", 4, 0},
        {"\xF5\x80\x80\x80", 4, 0},
        {"\x80", 1, 0},
        {"\xE2\x82", 2, 0},
        {"\xE2\x28\xA1", 3, 0},
        {"\xF4\x8F\xBF\xBF", 4, 4},
        {"\xED\x9F\xBF", 3, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(lm_utf8_len((const unsigned char *)cases[i].s, cases[i].n), cases[i].want);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_utf8_len),
        cmocka_unit_test(test_fnv_known),
        cmocka_unit_test(test_fnv_file),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_file_read),
        cmocka_unit_test(test_file_read_pipe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
