/* test_stats_rank.c -- the rank-based statistics of src/stats: the
 * Mann-Whitney U test against R's documented example and Python
 * recomputations (exact counts by Mann and Whitney's recurrence in
 * integers, the tie-corrected normal approximation; written in below with
 * how they were computed), its symmetry, its edge cases and its power on
 * shifted samples; the binomial CDF and the quantile's interval ranks
 * against exact sums in Python's fractions, the median's ranks for p = 1/2,
 * and the interval's coverage on 2,000 seeded samples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "stats/stats.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void near(double got, double want, double rel) {
    double tol = rel * (fabs(want) > 1 ? fabs(want) : 1);
    if (!(fabs(got - want) <= tol)) fail_msg("got %.17g, want %.17g (+- %g)", got, want, tol);
}

/* R's ?wilcox.test example: x <- c(0.80, 0.83, 1.89, 1.04, 1.45, 1.38,
 * 1.91, 1.64, 0.73, 1.46); y <- c(1.15, 0.88, 0.90, 0.74, 1.21);
 * wilcox.test(x, y, alternative = "g") gives W = 35, p-value = 0.1272; the
 * two-sided exact p is twice that: in Python, the exact counts of U for
 * sizes 10 and 5 give 2 P(U >= 35) = 0.2544122544122544. */
static void test_mwu_r_example(void **state) {
    double x[] = {0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46};
    double y[] = {1.15, 0.88, 0.90, 0.74, 1.21};
    lm_stats_mwu m;
    char err[LM_ERRLEN];
    assert_int_equal(lm_stats_mann_whitney(x, 10, y, 5, &m, err), LM_OK);
    assert_true(m.u == 35 && m.exact && !m.ties);
    near(m.p, 0.2544122544122544, 1e-13);
    near(m.effect, 35.0 / 50, 1e-15);
    /* Swapped: U' = 50 - U, the same two-sided p. */
    assert_int_equal(lm_stats_mann_whitney(y, 5, x, 10, &m, err), LM_OK);
    assert_true(m.u == 15);
    near(m.p, 0.2544122544122544, 1e-13);
    /* Complete separation of 3 and 3: p = 2 / C(6, 3) = 0.1. */
    double a[] = {1, 2, 3}, b[] = {4, 5, 6};
    assert_int_equal(lm_stats_mann_whitney(a, 3, b, 3, &m, err), LM_OK);
    assert_true(m.u == 0 && m.effect == 0);
    near(m.p, 0.1, 1e-15);
}

/* Ties: the normal approximation with the tie correction; in Python,
 * var = m n / 12 ((N + 1) - sum(t^3 - t) / (N (N - 1))), z = (U - m n / 2
 * + 1/2) / sqrt(var), p = erfc(|z| / sqrt 2): a = [1,2,2,3,3,3,4,5],
 * b = [3,4,4,5,5,6,7,7,8] give U = 7.5, z = -2.727939278646863,
 * p = 0.006373133838085877. Large (60 and 70, no ties): a = 0..59,
 * b = 10.5..79.5 give U = 1225, z = -4.084041474512692,
 * p = 4.425912609251139e-05. */
static void test_mwu_normal(void **state) {
    double a[] = {1, 2, 2, 3, 3, 3, 4, 5}, b[] = {3, 4, 4, 5, 5, 6, 7, 7, 8};
    lm_stats_mwu m;
    char err[LM_ERRLEN];
    assert_int_equal(lm_stats_mann_whitney(a, N_OF(a), b, N_OF(b), &m, err), LM_OK);
    assert_true(m.u == 7.5 && !m.exact && m.ties);
    near(m.z, -2.727939278646863, 1e-13);
    near(m.p, 0.006373133838085877, 1e-12);
    double big_a[60], big_b[70];
    for (int i = 0; i < 60; i++)
        big_a[i] = i;
    for (int i = 0; i < 70; i++)
        big_b[i] = i + 10.5;
    assert_int_equal(lm_stats_mann_whitney(big_a, 60, big_b, 70, &m, err), LM_OK);
    assert_true(m.u == 1225 && !m.exact && !m.ties);
    near(m.z, -4.084041474512692, 1e-13);
    near(m.p, 4.425912609251139e-05, 1e-10);
}

/* Identical samples: U is half the pairs and p is 1, exact or not; a
 * constant sample has no variance and p is 1. */
static void test_mwu_identical(void **state) {
    double a[200];
    lm_stats_rng r = {3};
    for (int i = 0; i < 200; i++)
        a[i] = lm_stats_rng_uniform(&r);
    lm_stats_mwu m;
    char err[LM_ERRLEN];
    assert_int_equal(lm_stats_mann_whitney(a, 200, a, 200, &m, err), LM_OK);
    assert_true(m.u == 200.0 * 200 / 2 && m.p == 1 && m.effect == 0.5);
    assert_int_equal(lm_stats_mann_whitney(a, 20, a, 20, &m, err), LM_OK);
    assert_true(m.p == 1);
    double c[] = {5, 5, 5, 5};
    assert_int_equal(lm_stats_mann_whitney(c, 4, c, 4, &m, err), LM_OK);
    assert_true(m.p == 1 && m.effect == 0.5);
}

/* Power and calibration: a shift of one standard deviation in 100 values
 * each is found (p < 1e-6); two draws of the same distribution reject at
 * 5% in about 5% of 1,000 seeded trials. */
static void test_mwu_shift_and_null(void **state) {
    lm_stats_rng r = {11};
    double a[100], b[100];
    char err[LM_ERRLEN];
    lm_stats_mwu m;
    for (int i = 0; i < 100; i++) {
        a[i] = lm_stats_rng_uniform(&r) * sqrt(12.0);
        b[i] = lm_stats_rng_uniform(&r) * sqrt(12.0) + 1;
    }
    assert_int_equal(lm_stats_mann_whitney(a, 100, b, 100, &m, err), LM_OK);
    assert_true(m.p < 1e-6 && m.effect < 0.5);
    int rejected = 0;
    for (int t = 0; t < 1000; t++) {
        for (int i = 0; i < 30; i++) {
            a[i] = lm_stats_rng_uniform(&r);
            b[i] = lm_stats_rng_uniform(&r);
        }
        assert_int_equal(lm_stats_mann_whitney(a, 30, b, 30, &m, err), LM_OK);
        assert_true(m.exact);
        rejected += m.p < 0.05;
    }
    /* Binomial(1000, 0.05) is 50 +- 6.9: 30 to 70 holds it at 4 sd. */
    if (rejected < 30 || rejected > 70) fail_msg("%d of 1000 rejected at 5%%", rejected);
}

static void test_mwu_errors(void **state) {
    double a[] = {1, 2}, bad[] = {1, INFINITY};
    lm_stats_mwu m;
    char err[LM_ERRLEN];
    assert_int_equal(lm_stats_mann_whitney(a, 2, a, 0, &m, err), LM_ERR);
    assert_string_equal(err, "mann-whitney: a test needs values on both sides (2 and 0)");
    assert_int_equal(lm_stats_mann_whitney(a, 2, bad, 2, &m, err), LM_ERR);
    assert_string_equal(err, "statistics: value 1 of 2 is inf: only finite numbers count");
}

/* In Python, sum(comb(n, i) p^i (1 - p)^(n - i) for i in range(m + 1))
 * with fractions: Bin(50, 0.3) at 10 is 0.07885062482305641. */
static void test_binom_cdf(void **state) {
    near(lm_stats_binom_cdf(50, 0.3, 10), 0.07885062482305641, 1e-13);
    assert_true(lm_stats_binom_cdf(50, 0.3, 50) == 1);
    /* Both tails of one distribution add up to 1 around the mode. */
    for (size_t m = 0; m < 100; m++) {
        double lo = lm_stats_binom_cdf(100, 0.37, m);
        if (m) assert_true(lo >= lm_stats_binom_cdf(100, 0.37, m - 1));
    }
    near(lm_stats_binom_cdf(1000000, 0.99, 989999) +
             (1 - lm_stats_binom_cdf(1000000, 0.99, 989999)),
         1, 1e-15);
}

/* The ranks against exact sums in Python's fractions (largest j with
 * P(B <= j - 1) <= 0.025, smallest k with P(B >= k) <= 0.025):
 * n 20 p 1/2: 6, 15, coverage 0.9586105346679688; n 100 p 0.9: 84, 96,
 * 0.955690107191223; n 1000 p 0.99: 983, 997, 0.9760947634979771; n 400
 * p 0.99: 392, 400; n 368 p 0.99: 360, 368; n 367 p 0.99: 359 and no
 * upper rank; n 10 p 1/4: no lower rank, 6. */
static void test_quantile_ranks(void **state) {
    size_t j, k;
    double cov;
    assert_int_equal(lm_stats_quantile_ranks(20, 0.5, 0.95, &j, &k, &cov), 1);
    assert_true(j == 6 && k == 15);
    near(cov, 0.9586105346679688, 1e-12);
    assert_int_equal(lm_stats_quantile_ranks(100, 0.9, 0.95, &j, &k, &cov), 1);
    assert_true(j == 84 && k == 96);
    near(cov, 0.955690107191223, 1e-12);
    assert_int_equal(lm_stats_quantile_ranks(1000, 0.99, 0.95, &j, &k, &cov), 1);
    assert_true(j == 983 && k == 997);
    near(cov, 0.9760947634979771, 1e-11);
    assert_int_equal(lm_stats_quantile_ranks(400, 0.99, 0.95, &j, &k, &cov), 1);
    assert_true(j == 392 && k == 400);
    assert_int_equal(lm_stats_quantile_ranks(368, 0.99, 0.95, &j, &k, &cov), 1);
    assert_true(j == 360 && k == 368);
    assert_int_equal(lm_stats_quantile_ranks(367, 0.99, 0.95, &j, &k, &cov), 0);
    assert_true(j == 359 && k == 0 && cov == 0);
    assert_int_equal(lm_stats_quantile_ranks(10, 0.25, 0.95, &j, &k, &cov), 0);
    assert_true(j == 0 && k == 6);
    /* p = 1/2 gives the median's ranks. */
    for (size_t n = 2; n <= 300; n++) {
        size_t mj, mk, qj, qk;
        double mc, qc;
        int m = lm_stats_median_ranks(n, 0.95, &mj, &mk, &mc);
        int q = lm_stats_quantile_ranks(n, 0.5, 0.95, &qj, &qk, &qc);
        assert_int_equal(m, q);
        if (m) {
            assert_true(mj == qj && mk == qk);
            near(qc, mc, 1e-12);
        }
    }
}

/* The interval of p90 from 60 uniform values holds the true 0.9 in at
 * least 95% of 2,000 seeded samples (minus 3 sd of the Monte Carlo). */
static void test_ci_quantile_coverage(void **state) {
    lm_stats_rng r = {7};
    double x[60];
    lm_stats_ci ci;
    char err[LM_ERRLEN];
    int hit = 0;
    for (int t = 0; t < 2000; t++) {
        for (int i = 0; i < 60; i++)
            x[i] = lm_stats_rng_uniform(&r);
        lm_stats_sort(x, 60);
        assert_int_equal(lm_stats_ci_quantile(x, 60, 0.9, 0.95, &ci, err), LM_OK);
        assert_true(ci.ok && ci.coverage >= 0.95);
        hit += ci.lo <= 0.9 && 0.9 <= ci.hi;
    }
    if (hit < 2000 * 0.95 - 3 * sqrt(2000 * 0.95 * 0.05)) fail_msg("coverage %d of 2000", hit);
    /* Too few values for p99's upper end: lo alone. */
    assert_int_equal(lm_stats_ci_quantile(x, 60, 0.99, 0.95, &ci, err), LM_OK);
    assert_true(!ci.ok && isnan(ci.hi) && !isnan(ci.lo) && ci.k == 0);
    assert_int_equal(lm_stats_ci_quantile(x, 60, 1, 0.95, &ci, err), LM_ERR);
    assert_string_equal(err, "statistics: quantile 1 is not between 0 and 1 (exclusive)");
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* lm_stats_sort against qsort on seeded arrays of every shape: random,
 * few distinct values, sorted, reversed, all equal, organ pipe, and
 * sizes around the insertion-sort cut. */
static void test_sort(void **state) {
    lm_stats_rng r = {13};
    static double a[20000], b[20000];
    const size_t sizes[] = {0, 1, 2, 3, 15, 16, 17, 33, 100, 1000, 20000};
    for (size_t si = 0; si < N_OF(sizes); si++)
        for (int shape = 0; shape < 6; shape++) {
            size_t n = sizes[si];
            for (size_t i = 0; i < n; i++) {
                double u = lm_stats_rng_uniform(&r);
                a[i] = shape == 0   ? u
                       : shape == 1 ? (double)(lm_stats_rng_below(&r, 3))
                       : shape == 2 ? (double)i
                       : shape == 3 ? (double)(n - i)
                       : shape == 4 ? 7.0
                                    : (double)(i < n / 2 ? i : n - i);
            }
            memcpy(b, a, n * sizeof *a);
            lm_stats_sort(a, n);
            qsort(b, n, sizeof *b, cmp);
            if (n && memcmp(a, b, n * sizeof *a) != 0)
                fail_msg("sort differs from qsort: n %zu, shape %d", n, shape);
        }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mwu_r_example),  cmocka_unit_test(test_mwu_normal),
        cmocka_unit_test(test_mwu_identical),  cmocka_unit_test(test_mwu_shift_and_null),
        cmocka_unit_test(test_mwu_errors),     cmocka_unit_test(test_binom_cdf),
        cmocka_unit_test(test_quantile_ranks), cmocka_unit_test(test_ci_quantile_coverage),
        cmocka_unit_test(test_sort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
