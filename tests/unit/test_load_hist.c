/* test_load_hist.c -- the load client's histogram (src/load/hist) against
 * exact percentiles: the same values sorted, nearest rank. Every reported
 * percentile r of exact value e must satisfy e <= r <= e + e * precision
 * and r <= max, on random (uniform, exponential, log-uniform over the
 * whole range) and adversarial distributions (one value, bucket edges,
 * powers of two, 0, values past the range, two far modes, a spike hidden
 * at 99.99%); merging halves equals recording the whole; count, min, max
 * and mean are exact; the bucket layout holds its stated precision. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "load/hist.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static double unit(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The nearest-rank percentile of sorted v[0..n): rank ceil(p/100 * n). */
static uint64_t exact(const uint64_t *v, size_t n, double p) {
    if (p >= 100) return v[n - 1];
    uint64_t ppm = (uint64_t)llround(p * 1e4);
    uint64_t rank = (uint64_t)(((unsigned __int128)ppm * n + 999999) / 1000000);
    if (rank < 1) rank = 1;
    return v[rank - 1];
}

static const double ps[] = {0, 0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 99.999, 100};

/* Records v[0..n) (values past max taken as max), checks every
 * percentile against the sorted copy, and count, min, max, mean. */
static void check(const uint64_t *v, size_t n, int digits, uint64_t maxv) {
    char err[LM_ERRLEN] = "";
    lm_hist *h = lm_hist_new(digits, maxv, err);
    assert_non_null(h);
    uint64_t top = maxv ? maxv : LM_HIST_HOUR_NS;
    uint64_t *s = malloc(n * sizeof(*s));
    assert_non_null(s);
    long double sum = 0;
    uint64_t over = 0;
    for (size_t i = 0; i < n; i++) {
        lm_hist_record(h, v[i]);
        s[i] = v[i] > top ? top : v[i];
        over += v[i] > top;
        sum += s[i];
    }
    qsort(s, n, sizeof(*s), cmp_u64);
    double prec = lm_hist_precision(h);
    assert_true(prec <= pow(10, -digits));
    assert_int_equal(lm_hist_count(h), n);
    assert_int_equal(lm_hist_min(h), s[0]);
    assert_int_equal(lm_hist_max(h), s[n - 1]);
    assert_int_equal(lm_hist_overflow(h), over);
    assert_true(fabsl((long double)lm_hist_mean(h) - sum / n) <= 1e-9L * (sum / n) + 1e-9L);
    for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]) + 20; k++) {
        double p = k < sizeof(ps) / sizeof(ps[0]) ? ps[k] : unit() * 100;
        uint64_t e = exact(s, n, p), r = lm_hist_percentile(h, p);
        if (!(e <= r && (double)(r - e) <= (double)e * prec && r <= s[n - 1])) {
            fprintf(stderr, "p%g: exact %llu, histogram %llu (precision %g, %d digits)\n", p,
                    (unsigned long long)e, (unsigned long long)r, prec, digits);
            fail();
        }
    }
    free(s);
    lm_hist_free(h);
}

static void test_random_distributions(void **state) {
    (void)state;
    size_t n = 200000;
    uint64_t *v = malloc(n * sizeof(*v));
    assert_non_null(v);
    for (int digits = 1; digits <= 4; digits++) {
        for (size_t i = 0; i < n; i++) /* uniform, microseconds */
            v[i] = 50000 + rnd() % 950000;
        check(v, n, digits, 0);
        for (size_t i = 0; i < n; i++) /* exponential, mean 200 us */
            v[i] = (uint64_t)(-log(1 - unit()) * 200000.0);
        check(v, n, digits, 0);
        for (size_t i = 0; i < n; i++) /* log-uniform over 1 ns .. 1 h */
            v[i] = (uint64_t)exp(unit() * log((double)LM_HIST_HOUR_NS));
        check(v, n, digits, 0);
    }
    free(v);
}

static void test_adversarial(void **state) {
    (void)state;
    enum { N = 20000 };
    static uint64_t v[N];
    for (size_t i = 0; i < N; i++) /* one value */
        v[i] = 123456789;
    check(v, N, 3, 0);
    for (size_t i = 0; i < N; i++) /* bucket edges: 2^k - 1, 2^k, 2^k + 1 */
        v[i] = (1ull << (i % 42)) + (uint64_t)(i % 3) - 1;
    check(v, N, 3, 0);
    check(v, N, 2, 0);
    for (size_t i = 0; i < N; i++) /* zeros and ones */
        v[i] = i % 2;
    check(v, N, 3, 0);
    for (size_t i = 0; i < N; i++) /* past the range: counted at max */
        v[i] = i % 10 == 0 ? UINT64_MAX - i : 1000 + i;
    check(v, N, 3, 0);
    for (size_t i = 0; i < N; i++) /* two modes far apart: 1 ns and 1 h */
        v[i] = i % 2 ? 1 : LM_HIST_HOUR_NS;
    check(v, N, 3, 0);
    for (size_t i = 0; i < N; i++) /* a spike only p99.99 and up see */
        v[i] = i < N - 2 ? 100000 + i : 1000000000;
    check(v, N, 3, 0);
    for (size_t i = 0; i < N; i++) /* the highest value of every bucket near 1 ms */
        v[i] = 1048576 + 1024 * i - 1;
    check(v, N, 3, 0);
    check(v, 1, 3, 0); /* one value */
    check(v, 7, 5, 0);
    uint64_t small[] = {5, 3, 9};
    check(small, 3, 3, 10000); /* a small range */
}

/* Every value lies in its bucket, and a bucket is no wider than its
 * lowest value times the precision (so reports are within it). */
static void test_layout(void **state) {
    (void)state;
    for (int digits = 1; digits <= 5; digits++) {
        lm_hist *h = lm_hist_new(digits, 0, NULL);
        assert_non_null(h);
        double prec = lm_hist_precision(h);
        /* Bucket by bucket: each starts where the last ended. */
        uint64_t v = 0, buckets = 0;
        while (v <= LM_HIST_HOUR_NS) {
            uint64_t lo = lm_hist_lowest_equivalent(h, v), hi = lm_hist_highest_equivalent(h, v);
            assert_int_equal(lo, v);
            assert_true(hi >= lo);
            assert_true((double)(hi - lo) <= (double)lo * prec);
            uint64_t inside = lo + rnd() % (hi - lo + 1);
            assert_int_equal(lm_hist_lowest_equivalent(h, inside), lo);
            assert_int_equal(lm_hist_highest_equivalent(h, inside), hi);
            v = hi + 1;
            buckets++;
        }
        assert_true(buckets > 500);
        /* Exact below 2^b. */
        assert_int_equal(lm_hist_highest_equivalent(h, 17), 17);
        lm_hist_free(h);
    }
}

static void test_merge(void **state) {
    (void)state;
    lm_hist *a = lm_hist_new(3, 0, NULL), *b = lm_hist_new(3, 0, NULL),
            *w = lm_hist_new(3, 0, NULL);
    assert_true(a && b && w);
    for (int i = 0; i < 100000; i++) {
        uint64_t v = (uint64_t)exp(unit() * 30);
        lm_hist_record(i % 3 ? a : b, v);
        lm_hist_record(w, v);
    }
    char err[LM_ERRLEN] = "";
    assert_int_equal(lm_hist_merge(a, b, err), LM_OK);
    assert_int_equal(lm_hist_count(a), lm_hist_count(w));
    assert_int_equal(lm_hist_min(a), lm_hist_min(w));
    assert_int_equal(lm_hist_max(a), lm_hist_max(w));
    assert_true(lm_hist_mean(a) == lm_hist_mean(w));
    for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++)
        assert_int_equal(lm_hist_percentile(a, ps[k]), lm_hist_percentile(w, ps[k]));
    /* Merging an empty one changes nothing; into an empty one copies. */
    lm_hist *e = lm_hist_new(3, 0, NULL);
    assert_int_equal(lm_hist_merge(a, e, err), LM_OK);
    assert_int_equal(lm_hist_count(a), lm_hist_count(w));
    assert_int_equal(lm_hist_merge(e, w, err), LM_OK);
    assert_int_equal(lm_hist_min(e), lm_hist_min(w));
    assert_int_equal(lm_hist_percentile(e, 99.9), lm_hist_percentile(w, 99.9));
    /* Different settings cannot be merged. */
    lm_hist *d = lm_hist_new(2, 0, NULL);
    assert_int_equal(lm_hist_merge(a, d, err), LM_ERR);
    assert_string_equal(err, "histogram merge: 3 digits up to 3600000000000 ns and 2 digits up "
                             "to 3600000000000 ns cannot be added: make both with the same "
                             "settings");
    lm_hist_reset(a);
    assert_int_equal(lm_hist_count(a), 0);
    assert_int_equal(lm_hist_percentile(a, 50), 0);
    assert_true(lm_hist_mean(a) == 0);
    lm_hist_free(a);
    lm_hist_free(b);
    lm_hist_free(w);
    lm_hist_free(e);
    lm_hist_free(d);
}

static void test_bad_arguments(void **state) {
    (void)state;
    char err[LM_ERRLEN] = "";
    assert_null(lm_hist_new(0, 0, err));
    assert_string_equal(err, "histogram: significant digits must be 1 to 5, not 0");
    assert_null(lm_hist_new(6, 0, err));
    assert_string_equal(err, "histogram: significant digits must be 1 to 5, not 6");
    lm_hist_free(NULL); /* a harmless no-op */
    lm_hist *h = lm_hist_new(3, 0, err);
    assert_int_equal(lm_hist_percentile(h, 99), 0); /* empty */
    assert_int_equal(lm_hist_min(h), 0);
    lm_hist_record(h, 42);
    assert_int_equal(lm_hist_percentile(h, -5), 42);
    assert_int_equal(lm_hist_percentile(h, 1000), 42);
    assert_int_equal(lm_hist_percentile(h, NAN), 42);
    lm_hist_free(h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_distributions),
        cmocka_unit_test(test_adversarial),
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
