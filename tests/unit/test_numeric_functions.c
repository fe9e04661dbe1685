/* test_numeric_functions.c -- unit tests of the fibonacci and prime-numbers
 * functions against answers computed independently inside the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "invoke.h"
#include "lumos.h"

extern const lm_function lm_fn_fibonacci;
extern const lm_function lm_fn_prime_numbers;

/* ---- helpers ------------------------------------------------------------ */

/* Invokes fn on body, expects status 200, and returns the parsed "data"
 * member (the document goes to *doc for the caller to free). */
static const lm_json *invoke_ok(const lm_function *fn, const char *body, lm_json_doc **doc,
                                lm_test_reply *reply) {
    int status = lm_test_invoke(fn, body, NULL, reply);
    if (status != 200) fprintf(stderr, "unexpected reply to %s: %s\n", body, reply->body);
    assert_int_equal(status, 200);
    const lm_json *data = NULL;
    *doc = lm_test_reply_data(reply, &data);
    assert_non_null(*doc);
    assert_non_null(data);
    return data;
}

/* Invokes fn on body and expects a 400 "bad_request" whose message names
 * field. */
static void expect_bad(const lm_function *fn, const char *body, const char *field) {
    lm_test_reply r;
    int status = lm_test_invoke(fn, body, NULL, &r);
    if (status != 400) fprintf(stderr, "expected 400 for %s, got: %s\n", body, r.body);
    assert_int_equal(status, 400);
    lm_json_doc *doc = lm_json_parse(r.body, r.body_len, NULL, 0);
    assert_non_null(doc);
    const lm_json *root = lm_json_root(doc);
    assert_string_equal(lm_json_string(lm_json_get(root, "status"), NULL), "error");
    assert_string_equal(lm_json_string(lm_json_get(root, "error"), NULL), "bad_request");
    const char *msg = lm_json_string(lm_json_get(root, "message"), NULL);
    assert_non_null(msg);
    assert_non_null(strstr(msg, field));
    lm_json_free(doc);
    lm_test_reply_free(&r);
}

static uint64_t get_u64(const lm_json *obj, const char *key) {
    const lm_json *v = lm_json_get(obj, key);
    assert_non_null(v);
    int64_t i;
    assert_int_equal(lm_json_int(v, &i), 0);
    assert_true(i >= 0);
    return (uint64_t)i;
}

/* ---- fibonacci ------------------------------------------------------------ */

/* F(n) and F(n+1) mod 2^64 by fast doubling, a different method from the
 * function's loop: F(2k) = F(k) (2 F(k+1) - F(k)) and
 * F(2k+1) = F(k)^2 + F(k+1)^2 hold over the integers, hence mod 2^64. */
static void fib_doubling(uint64_t n, uint64_t *fn, uint64_t *fn1) {
    if (n == 0) {
        *fn = 0;
        *fn1 = 1;
        return;
    }
    uint64_t a, b;
    fib_doubling(n / 2, &a, &b);
    uint64_t c = a * (2 * b - a);
    uint64_t d = a * a + b * b;
    if (n % 2 == 0) {
        *fn = c;
        *fn1 = d;
    } else {
        *fn = d;
        *fn1 = c + d;
    }
}

static void expect_fib(uint64_t n, const char *expect) {
    char body[64], want[32];
    snprintf(body, sizeof(body), "{\"n\":%llu}", (unsigned long long)n);
    if (!expect) {
        uint64_t f, f1;
        fib_doubling(n, &f, &f1);
        snprintf(want, sizeof(want), "%llu", (unsigned long long)f);
        expect = want;
    }
    lm_test_reply r;
    lm_json_doc *doc;
    const lm_json *data = invoke_ok(&lm_fn_fibonacci, body, &doc, &r);
    assert_int_equal(get_u64(data, "n"), n);
    const char *value = lm_json_string(lm_json_get(data, "value"), NULL);
    assert_non_null(value);
    assert_string_equal(value, expect);
    lm_json_free(doc);
    lm_test_reply_free(&r);
}

static void test_fib_small(void **state) {
    (void)state;
    expect_fib(0, "0");
    expect_fib(1, "1");
    expect_fib(2, "1");
    expect_fib(10, "55");
    expect_fib(50, "12586269025");
}

static void test_fib_wraps_at_2_64(void **state) {
    (void)state;
    /* F(93) is the largest Fibonacci number below 2^64; F(94) wraps. */
    expect_fib(93, "12200160415121876738");
    expect_fib(94, "1293530146158671551");
    expect_fib(93, NULL);
    expect_fib(94, NULL);
}

static void test_fib_large(void **state) {
    (void)state;
    expect_fib(1000, NULL);
    expect_fib(1000000, NULL);
    expect_fib(1000000000, NULL); /* the largest n accepted */
}

static void test_fib_oracle_self_check(void **state) {
    (void)state;
    /* The oracle agrees with the plain recurrence, wrap-around included. */
    uint64_t a = 0, b = 1;
    for (uint64_t n = 0; n < 300; n++) {
        uint64_t f, f1;
        fib_doubling(n, &f, &f1);
        assert_true(f == a);
        assert_true(f1 == b);
        uint64_t t = a + b;
        a = b;
        b = t;
    }
}

static void test_fib_bad_input(void **state) {
    (void)state;
    expect_bad(&lm_fn_fibonacci, "{\"n\":-1}", "'n'");
    expect_bad(&lm_fn_fibonacci, "{\"n\":1000000001}", "1000000000");
    expect_bad(&lm_fn_fibonacci, "{\"n\":1e3}", "'n'");
    expect_bad(&lm_fn_fibonacci, "{\"n\":5.5}", "'n'");
    expect_bad(&lm_fn_fibonacci, "{\"n\":\"10\"}", "'n'");
    expect_bad(&lm_fn_fibonacci, "{\"n\":null}", "'n'");
    expect_bad(&lm_fn_fibonacci, "{\"n\":true}", "'n'");
    expect_bad(&lm_fn_fibonacci, "{\"n\":[10]}", "'n'");
    expect_bad(&lm_fn_fibonacci, "{\"n\":99999999999999999999}", "JSON");
    expect_bad(&lm_fn_fibonacci, "{}", "'n'");
    expect_bad(&lm_fn_fibonacci, "[10]", "object");
}

static void test_fib_probes(void **state) {
    (void)state;
    lm_test_reply r;
    assert_int_equal(lm_test_invoke(&lm_fn_fibonacci, "{\"n\":1000000}", NULL, &r), 200);
    assert_true(r.probes[LM_PROBE_COMPUTE_NS] > 0);
    assert_int_equal(r.probes[LM_PROBE_IO_CALLS], 0);
    uint64_t sum = r.probes[LM_PROBE_DESER_NS] + r.probes[LM_PROBE_IO_NS] +
                   r.probes[LM_PROBE_COMPUTE_NS] + r.probes[LM_PROBE_SER_NS];
    assert_true(sum == r.probes[LM_PROBE_TOTAL_NS]);
    lm_test_reply_free(&r);
}

/* ---- prime-numbers ------------------------------------------------------- */

/* The primes up to limit by a plain byte sieve over all numbers, written
 * independently of the function's odd-only bit sieve. Returns a malloc'd
 * array and its length in *n. */
static uint32_t *oracle_primes(uint32_t limit, size_t *n) {
    uint8_t *composite = calloc((size_t)limit + 1, 1);
    uint32_t *out = malloc(((size_t)limit / 2 + 2) * sizeof(uint32_t));
    assert_non_null(composite);
    assert_non_null(out);
    *n = 0;
    for (uint32_t i = 2; i <= limit; i++) {
        if (composite[i]) continue;
        out[(*n)++] = i;
        for (uint64_t j = (uint64_t)i * i; j <= limit; j += i)
            composite[j] = 1;
    }
    free(composite);
    return out;
}

typedef struct {
    lm_test_reply reply;
    lm_json_doc *doc;
    const lm_json *data;
} primes_reply;

static void primes_call(primes_reply *p, uint32_t limit, const char *method, const char *extra) {
    char body[160];
    snprintf(body, sizeof(body), "{\"limit\":%u%s%s%s%s}", limit, method ? ",\"method\":\"" : "",
             method ? method : "", method ? "\"" : "", extra ? extra : "");
    p->data = invoke_ok(&lm_fn_prime_numbers, body, &p->doc, &p->reply);
}

static void primes_free(primes_reply *p) {
    lm_json_free(p->doc);
    lm_test_reply_free(&p->reply);
}

/* Checks the reply's count, method, limit and list against the oracle. */
static void check_primes(const primes_reply *p, uint32_t limit, const char *method) {
    size_t n;
    uint32_t *want = oracle_primes(limit, &n);
    assert_int_equal(get_u64(p->data, "count"), n);
    assert_int_equal(get_u64(p->data, "limit"), limit);
    assert_string_equal(lm_json_string(lm_json_get(p->data, "method"), NULL), method);
    const lm_json *list = lm_json_get(p->data, "primes");
    assert_non_null(list);
    assert_int_equal(lm_json_typeof(list), LM_JSON_ARRAY);
    assert_int_equal(lm_json_size(list), n);
    for (size_t i = 0; i < n; i++) {
        int64_t v;
        assert_int_equal(lm_json_int(lm_json_at(list, i), &v), 0);
        if ((uint64_t)v != want[i])
            fail_msg("limit %u: primes[%zu] = %lld, want %u", limit, i, (long long)v, want[i]);
    }
    free(want);
}

static void test_primes_known_counts(void **state) {
    (void)state;
    static const struct {
        uint32_t limit;
        uint64_t count;
        uint32_t last;
    } known[] = {{10000, 1229, 9973}, {100000, 9592, 99991}, {1000000, 78498, 999983}};
    static const char *methods[] = {"trial", "sieve"};
    for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
        primes_reply by[2];
        for (int m = 0; m < 2; m++) {
            primes_call(&by[m], known[k].limit, methods[m], NULL);
            assert_int_equal(get_u64(by[m].data, "count"), known[k].count);
            const lm_json *list = lm_json_get(by[m].data, "primes");
            assert_int_equal(lm_json_size(list), known[k].count);
            int64_t first, last;
            assert_int_equal(lm_json_int(lm_json_at(list, 0), &first), 0);
            assert_int_equal(lm_json_int(lm_json_at(list, known[k].count - 1), &last), 0);
            assert_int_equal(first, 2);
            assert_int_equal(last, known[k].last);
        }
        /* Both methods write byte-identical replies but for the method name. */
        const char *a = strstr(by[0].reply.body, "\"primes\":");
        const char *b = strstr(by[1].reply.body, "\"primes\":");
        assert_non_null(a);
        assert_non_null(b);
        assert_string_equal(a, b);
        check_primes(&by[0], known[k].limit, "trial");
        check_primes(&by[1], known[k].limit, "sieve");
        primes_free(&by[0]);
        primes_free(&by[1]);
    }
}

static void test_primes_default_method_is_trial(void **state) {
    (void)state;
    primes_reply p;
    primes_call(&p, 100, NULL, NULL);
    check_primes(&p, 100, "trial");
    primes_free(&p);
}

static void test_primes_every_small_limit(void **state) {
    (void)state;
    /* 0..400 covers the empty lists, 2 alone, and the squares of primes
     * (9, 25, 49, 121, 169, 289, 361) where an integer square root one too
     * small would let a composite through. */
    for (uint32_t limit = 0; limit <= 400; limit++) {
        primes_reply p;
        primes_call(&p, limit, "trial", NULL);
        check_primes(&p, limit, "trial");
        primes_free(&p);
        primes_call(&p, limit, "sieve", NULL);
        check_primes(&p, limit, "sieve");
        primes_free(&p);
    }
}

static void test_primes_exact_text(void **state) {
    (void)state;
    static const struct {
        uint32_t limit;
        const char *text;
    } cases[] = {{0, "\"primes\":[]}}"},        {1, "\"primes\":[]}}"},
                 {2, "\"primes\":[2]}}"},       {3, "\"primes\":[2,3]}}"},
                 {9, "\"primes\":[2,3,5,7]}}"}, {30, "\"primes\":[2,3,5,7,11,13,17,19,23,29]}}"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int m = 0; m < 2; m++) {
            primes_reply p;
            primes_call(&p, cases[i].limit, m ? "sieve" : "trial", NULL);
            const char *at = strstr(p.reply.body, "\"primes\":");
            assert_non_null(at);
            assert_string_equal(at, cases[i].text);
            primes_free(&p);
        }
    }
}

static void test_primes_without_list(void **state) {
    (void)state;
    primes_reply p;
    primes_call(&p, 1000000, "trial", ",\"list\":false");
    assert_int_equal(get_u64(p.data, "count"), 78498);
    assert_null(lm_json_get(p.data, "primes"));
    primes_free(&p);
    primes_call(&p, 1000, "sieve", ",\"list\":true");
    check_primes(&p, 1000, "sieve");
    primes_free(&p);
}

static void test_primes_largest_limit(void **state) {
    (void)state;
    /* The largest limit, through the sieve (trial division would take
     * minutes): pi(10^8) = 5761455, and the whole list fits in a reply. */
    primes_reply p;
    primes_call(&p, 100000000, "sieve", NULL);
    assert_int_equal(get_u64(p.data, "count"), 5761455);
    const lm_json *list = lm_json_get(p.data, "primes");
    assert_int_equal(lm_json_size(list), 5761455);
    int64_t last;
    assert_int_equal(lm_json_int(lm_json_at(list, 5761454), &last), 0);
    assert_int_equal(last, 99999989);
    assert_true(p.reply.body_len < LM_FRAME_MAX);
    assert_true(p.reply.probes[LM_PROBE_SER_NS] > 0);
    primes_free(&p);
}

static void test_primes_probes(void **state) {
    (void)state;
    primes_reply p;
    primes_call(&p, 1000000, "sieve", NULL);
    assert_true(p.reply.probes[LM_PROBE_COMPUTE_NS] > 0);
    assert_true(p.reply.probes[LM_PROBE_SER_NS] > 0);
    assert_int_equal(p.reply.probes[LM_PROBE_IO_CALLS], 0);
    primes_free(&p);
}

static void test_primes_bad_input(void **state) {
    (void)state;
    const lm_function *f = &lm_fn_prime_numbers;
    expect_bad(f, "{\"limit\":100000001}", "100000000");
    expect_bad(f, "{\"limit\":-1}", "'limit'");
    expect_bad(f, "{\"limit\":1.5}", "'limit'");
    expect_bad(f, "{\"limit\":1e4}", "'limit'");
    expect_bad(f, "{\"limit\":\"100\"}", "'limit'");
    expect_bad(f, "{}", "'limit'");
    expect_bad(f, "{\"limit\":100,\"method\":\"fast\"}", "method");
    expect_bad(f, "{\"limit\":100,\"method\":\"Sieve\"}", "method");
    expect_bad(f, "{\"limit\":100,\"method\":\"sieve\\u0000\"}", "method");
    expect_bad(f, "{\"limit\":100,\"method\":\"\"}", "method");
    expect_bad(f, "{\"limit\":100,\"method\":3}", "method");
    expect_bad(f, "{\"limit\":100,\"list\":\"yes\"}", "list");
    expect_bad(f, "{\"limit\":100,\"list\":1}", "list");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fib_small),
        cmocka_unit_test(test_fib_wraps_at_2_64),
        cmocka_unit_test(test_fib_large),
        cmocka_unit_test(test_fib_oracle_self_check),
        cmocka_unit_test(test_fib_bad_input),
        cmocka_unit_test(test_fib_probes),
        cmocka_unit_test(test_primes_known_counts),
        cmocka_unit_test(test_primes_default_method_is_trial),
        cmocka_unit_test(test_primes_every_small_limit),
        cmocka_unit_test(test_primes_exact_text),
        cmocka_unit_test(test_primes_without_list),
        cmocka_unit_test(test_primes_largest_limit),
        cmocka_unit_test(test_primes_probes),
        cmocka_unit_test(test_primes_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
