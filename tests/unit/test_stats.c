/* test_stats.c -- the statistics room (src/stats): descriptive statistics
 * and type-7 quantiles against Python's `statistics` module (its values
 * written in below), Student's t against closed forms and printed tables,
 * the incomplete beta against exact binomial sums, the median's ranks
 * against exact binomial coverage (Python's fractions and math.comb), the
 * edge cases (n = 0, 1, 2, all equal, NaN and infinity refused), the
 * coverage of both intervals on 2,000 seeded samples, and the bootstrap:
 * deterministic for a seed, equal to a naive resampler, centered on 1 for
 * identical samples. */
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

/* |got - want| within rel of |want|, strictly relative (for tails). */
static void near_rel(double got, double want, double rel) {
    if (!(fabs(got - want) <= rel * fabs(want)))
        fail_msg("got %.17g, want %.17g (relative %g)", got, want, rel);
}

/* |got - want| within rel of want (or abs near 0). */
static void near(double got, double want, double rel) {
    double tol = rel * (fabs(want) > 1 ? fabs(want) : 1);
    if (!(fabs(got - want) <= tol)) fail_msg("got %.17g, want %.17g (+- %g)", got, want, tol);
}

/* The reference sample: in Python,
 *   x = [2.5, 3.1, 4.7, 1.2, 9.9, 5.0, 3.3, 7.8, 2.2, 6.4]
 *   statistics.mean(x), statistics.stdev(x), statistics.median(x),
 *   statistics.quantiles(x, n=100, method='inclusive')[89] (p90), [98] (p99),
 *   statistics.quantiles(x, n=1000, method='inclusive')[998] (p99.9)
 * ('inclusive' is type 7). */
static const double x10[] = {2.5, 3.1, 4.7, 1.2, 9.9, 5.0, 3.3, 7.8, 2.2, 6.4};

static void test_describe_known(void **state) {
    double x[N_OF(x10)];
    memcpy(x, x10, sizeof x);
    lm_stats_desc d;
    char err[LM_ERRLEN];
    assert_int_equal(lm_stats_describe(x, N_OF(x), &d, err), LM_OK);
    assert_int_equal(d.n, 10);
    near(d.mean, 4.61, 1e-14);
    near(d.sd, 2.736766137047316, 1e-14);
    near(d.median, 4.0, 1e-14);
    near(d.p90, 8.01, 1e-14);
    near(d.p99, 9.711, 1e-14);
    near(d.p999, 9.8811, 1e-14);
    near(d.cv, 0.593658598057986, 1e-14);
    assert_true(d.min == 1.2 && d.max == 9.9);
    assert_true(x[0] == 1.2 && x[9] == 9.9); /* sorted in place */

    /* y = [0.1 * i * i for i in range(1, 101)], the same calls. */
    double y[100];
    for (int i = 1; i <= 100; i++)
        y[100 - i] = 0.1 * i * i;
    assert_int_equal(lm_stats_describe(y, 100, &d, err), LM_OK);
    near(d.mean, 338.35, 1e-13);
    near(d.sd, 302.4355854282583, 1e-13);
    near(d.median, 255.05, 1e-13);
    near(d.p90, 811.81, 1e-13);
    near(d.p99, 980.2990000000001, 1e-13);
    near(d.p999, 998.0299, 1e-13);
}

static void test_quantile_type7(void **state) {
    /* By hand: h = (n - 1) p, between x[floor h] and the next. */
    const double s[] = {1, 2, 3, 4};
    assert_true(lm_stats_quantile(s, 4, 0) == 1);
    assert_true(lm_stats_quantile(s, 4, 1) == 4);
    near(lm_stats_quantile(s, 4, 0.25), 1.75, 1e-15);
    near(lm_stats_quantile(s, 4, 0.5), 2.5, 1e-15);
    near(lm_stats_quantile(s, 4, 0.9), 3.7, 1e-15);
    assert_true(isnan(lm_stats_quantile(s, 0, 0.5)));
    assert_true(isnan(lm_stats_quantile(s, 4, -0.1)));
    assert_true(isnan(lm_stats_quantile(s, 4, 1.5)));
    assert_true(isnan(lm_stats_quantile(s, 4, NAN)));
    assert_true(lm_stats_quantile(s, 1, 0.999) == 1);
}

static void test_edges(void **state) {
    lm_stats_desc d;
    lm_stats_ci ci;
    char err[LM_ERRLEN];
    /* n = 0: nothing. */
    assert_int_equal(lm_stats_describe(NULL, 0, &d, err), LM_OK);
    assert_true(d.n == 0 && isnan(d.mean) && isnan(d.median) && isnan(d.sd) && isnan(d.min));
    assert_int_equal(lm_stats_ci_mean(NULL, 0, 0.95, &ci, err), LM_OK);
    assert_false(ci.ok);
    /* n = 1: a value, no spread, no interval. */
    double one[] = {3.5};
    assert_int_equal(lm_stats_describe(one, 1, &d, err), LM_OK);
    assert_true(d.mean == 3.5 && d.median == 3.5 && d.p999 == 3.5 && d.min == 3.5);
    assert_true(isnan(d.sd) && isnan(d.cv));
    assert_int_equal(lm_stats_ci_mean(one, 1, 0.95, &ci, err), LM_OK);
    assert_false(ci.ok);
    assert_true(isnan(ci.lo) && isnan(ci.hi));
    /* n = 2: sd = |a - b| / sqrt 2; the mean's interval is t(0.975, 1) wide. */
    double two[] = {1, 3};
    assert_int_equal(lm_stats_describe(two, 2, &d, err), LM_OK);
    near(d.sd, sqrt(2.0), 1e-15);
    near(d.median, 2, 1e-15);
    assert_int_equal(lm_stats_ci_mean(two, 2, 0.95, &ci, err), LM_OK);
    assert_true(ci.ok);
    near(ci.hi - 2, 12.706204736174707 * sqrt(2.0) / sqrt(2.0), 1e-12);
    assert_int_equal(lm_stats_ci_median(two, 2, 0.95, &ci, err), LM_OK);
    assert_false(ci.ok);
    /* All equal: no spread; both intervals are the value. */
    double same[50];
    for (int i = 0; i < 50; i++)
        same[i] = 0.25;
    assert_int_equal(lm_stats_describe(same, 50, &d, err), LM_OK);
    assert_true(d.mean == 0.25 && d.sd == 0 && d.cv == 0 && d.p99 == 0.25);
    assert_int_equal(lm_stats_ci_mean(same, 50, 0.95, &ci, err), LM_OK);
    assert_true(ci.ok && ci.lo == 0.25 && ci.hi == 0.25);
    assert_int_equal(lm_stats_ci_median(same, 50, 0.95, &ci, err), LM_OK);
    assert_true(ci.ok && ci.lo == 0.25 && ci.hi == 0.25);
    /* A mean of 0 has no coefficient of variation. */
    double sym[] = {-1, 1};
    assert_int_equal(lm_stats_describe(sym, 2, &d, err), LM_OK);
    assert_true(d.mean == 0 && isnan(d.cv));
    /* NaN and infinities are refused, by position. */
    double bad[] = {1, 2, NAN, 4};
    assert_int_equal(lm_stats_describe(bad, 4, &d, err), LM_ERR);
    assert_string_equal(err, "statistics: value 2 of 4 is nan: only finite numbers count");
    bad[2] = INFINITY;
    assert_int_equal(lm_stats_ci_mean(bad, 4, 0.95, &ci, err), LM_ERR);
    assert_string_equal(err, "statistics: value 2 of 4 is inf: only finite numbers count");
    assert_int_equal(lm_stats_ci_median(bad, 4, 0.95, &ci, err), LM_ERR);
    /* A level outside (0, 1). */
    assert_int_equal(lm_stats_ci_mean(x10, 10, 95, &ci, err), LM_ERR);
    assert_string_equal(err,
                        "statistics: confidence level 95 is not between 0 and 1 (0.95 is 95%)");
    assert_int_equal(lm_stats_ci_median(x10, 10, 0, &ci, err), LM_ERR);
}

/* Student's t: closed forms (df 1, 2, 4; Abramowitz & Stegun 26.7) to
 * 1e-12, the printed table the task names to its 4 decimals, the
 * Cornish-Fisher expansion for a large df, and the CDF and the quantile
 * as inverses of each other. */
static void test_t_quantile(void **state) {
    const double ps[] = {0.5005, 0.6, 0.75, 0.9, 0.95, 0.975, 0.99, 0.995, 0.9995, 0.999999};
    for (size_t i = 0; i < N_OF(ps); i++) {
        double p = ps[i];
        /* Both sides lose the precision 1 - p has near p = 1. */
        double rel = 1e-12 + 1e-16 / (1 - p);
        near(lm_stats_t_quantile(p, 1), tan(M_PI * (p - 0.5)), rel);
        near(lm_stats_t_quantile(p, 2), (2 * p - 1) / sqrt(2 * p * (1 - p)), rel);
        double a = 4 * p * (1 - p);
        double t4 = 2 * sqrt(cos(acos(sqrt(a)) / 3) / sqrt(a) - 1);
        near(lm_stats_t_quantile(p, 4), t4, 10 * rel);
        near(lm_stats_t_quantile(1 - p, 4), -t4, 10 * rel);
    }
    near(lm_stats_t_quantile(0.975, 1), 12.7062, 5e-5 / 12.7062);
    near(lm_stats_t_quantile(0.975, 9), 2.2622, 5e-5 / 2.2622);
    near(lm_stats_t_quantile(0.975, 30), 2.0423, 5e-5 / 2.0423);
    near(lm_stats_t_quantile(0.975, 1000), 1.9623, 5e-5 / 1.9623);
    near(lm_stats_t_quantile(0.95, 5), 2.0150, 5e-5 / 2.015);
    near(lm_stats_t_quantile(0.995, 10), 3.1693, 5e-5 / 3.1693);
    /* z = NormalDist().inv_cdf(0.975) (Python); t = z + g1/df + g2/df^2. */
    double z = 1.9599639845400536, df = 1e5;
    double g1 = (z * z * z + z) / 4, g2 = (5 * pow(z, 5) + 16 * z * z * z + 3 * z) / 96;
    near(lm_stats_t_quantile(0.975, df), z + g1 / df + g2 / (df * df), 1e-10);
    near(lm_stats_t_quantile(0.5, 7), 0, 1e-300);
    assert_true(isnan(lm_stats_t_quantile(0, 5)) && isnan(lm_stats_t_quantile(1, 5)));
    assert_true(isnan(lm_stats_t_quantile(0.9, 0)) && isnan(lm_stats_t_quantile(0.9, -1)));
    const double dfs[] = {0.5, 1, 3, 7.5, 29, 200, 5000};
    for (size_t d = 0; d < N_OF(dfs); d++)
        for (double p = 0.01; p < 1; p += 0.07)
            near(lm_stats_t_cdf(lm_stats_t_quantile(p, dfs[d]), dfs[d]), p, 1e-13);
}

/* t(p, df) to 20 digits from mpmath (40-digit arithmetic): findroot of
 * betainc(df/2, 1/2, 0, df/(df+t^2), regularized=True)/2 - (1 - p). */
static const struct {
    double df, p, t;
} t_ref[] = {
    {1, 0.6, 0.32491969623290632616},         {1, 0.9, 3.0776835371752534026},
    {1, 0.95, 6.313751514675043099},          {1, 0.975, 12.706204736174704646},
    {1, 0.99, 31.820515953773958039},         {1, 0.995, 63.656741162871580995},
    {1, 0.9995, 636.61924876871961621},       {2, 0.6, 0.28867513459481288225},
    {2, 0.9, 1.8856180831641267317},          {2, 0.95, 2.919985580353725687},
    {2, 0.975, 4.3026527297494638523},        {2, 0.99, 6.9645567342832741871},
    {2, 0.995, 9.9248432009182931147},        {2, 0.9995, 31.599054576443620733},
    {3, 0.6, 0.27667066233268991054},         {3, 0.9, 1.6377443536962101055},
    {3, 0.95, 2.3533634348018238777},         {3, 0.975, 3.1824463052837095927},
    {3, 0.99, 4.5407028585681335553},         {3, 0.995, 5.8409093097333572607},
    {3, 0.9995, 12.923978636687483065},       {5, 0.6, 0.26718086570414512673},
    {5, 0.9, 1.4758840488244810785},          {5, 0.95, 2.0150483733330242378},
    {5, 0.975, 2.5705818356363155147},        {5, 0.99, 3.3649299989072185928},
    {5, 0.995, 4.0321429835552280784},        {5, 0.9995, 6.8688266258811102474},
    {9, 0.6, 0.26095533647391101148},         {9, 0.9, 1.3830287383966323087},
    {9, 0.95, 1.8331129326562371687},         {9, 0.975, 2.2621571627982055426},
    {9, 0.99, 2.8214379250258087643},         {9, 0.995, 3.2498355415921262756},
    {9, 0.9995, 4.7809125859311390663},       {10, 0.6, 0.26018482949208023537},
    {10, 0.9, 1.3721836411103356272},         {10, 0.95, 1.8124611228116764136},
    {10, 0.975, 2.2281388519862747484},       {10, 0.99, 2.7637694581126961988},
    {10, 0.995, 3.1692726726169512346},       {10, 0.9995, 4.5868938587026358996},
    {30, 0.6, 0.25560536495191277249},        {30, 0.9, 1.3104150253913955782},
    {30, 0.95, 1.6972608865939578486},        {30, 0.975, 2.04227245630123831},
    {30, 0.99, 2.4572615424005913725},        {30, 0.995, 2.7499956535672253324},
    {30, 0.9995, 3.6459586350420218161},      {100, 0.6, 0.25402218245822781657},
    {100, 0.9, 1.2900747613465159692},        {100, 0.95, 1.6602343260853395555},
    {100, 0.975, 1.9839715185235522866},      {100, 0.99, 2.3642173662384821363},
    {100, 0.995, 2.6258905214380179306},      {100, 0.9995, 3.3904913111642299194},
    {1000, 0.6, 0.25341451583949876477},      {1000, 0.9, 1.2823987214609244373},
    {1000, 0.95, 1.6463788172854647156},      {1000, 0.975, 1.962339080826408485},
    {1000, 0.99, 2.3300826747555129819},      {1000, 0.995, 2.5807546980659510793},
    {1000, 0.9995, 3.3002826484239129098},    {10000, 0.6, 0.25335384344572685155},
    {10000, 0.9, 1.281636229730477544},       {10000, 0.95, 1.6450060180692429644},
    {10000, 0.975, 1.9602012398906262578},    {10000, 0.99, 2.3267208386694756924},
    {10000, 0.995, 2.5763210466685288926},    {10000, 0.9995, 3.2914999659416046799},
    {1000000, 0.6, 0.25334717053784167948},   {1000000, 0.9, 1.2815524121299384804},
    {1000000, 0.95, 1.6448551507220404926},   {1000000, 0.975, 1.9599663568141070353},
    {1000000, 0.99, 2.3263516031208054179},   {1000000, 0.995, 2.5758342201053341543},
    {1000000, 0.9995, 3.2905364612486911308}, {30000, 0.6, 0.25334934988204123747},
    {30000, 0.975, 1.9600430633839350904},    {30000, 0.9995, 3.2908510848859958867},
    {100000, 0.6, 0.25334777715717994299},    {100000, 0.975, 1.9599877075346096386},
    {100000, 0.9995, 3.2906240314118826697},  {10000000, 0.6, 0.25334710987600302552},
    {10000000, 0.975, 1.9599642217672054904}, {10000000, 0.9995, 3.2905277044652224499},
};

static void test_t_quantile_mpmath(void **state) {
    double worst = 0;
    for (size_t i = 0; i < N_OF(t_ref); i++) {
        double got = lm_stats_t_quantile(t_ref[i].p, t_ref[i].df);
        double rel = fabs(got - t_ref[i].t) / t_ref[i].t;
        if (rel > worst) worst = rel;
        /* Half of the error is 1 - p's own rounding of p's decimal. */
        near(got, t_ref[i].t, 2e-14 / (1 - t_ref[i].p));
    }
    print_message("t quantile: worst relative error %.2g over %zu mpmath values\n", worst,
                  N_OF(t_ref));
}

/* Far tails P(T > t), mpmath as above: betainc(...) / 2 at t. */
static void test_t_tails_mpmath(void **state) {
    static const struct {
        double df, t, tail;
    } want[] = {
        {1, 1000, 0.00031830978008055893887},      {5, 30, 3.859324310248025993e-7},
        {100, 10, 4.9508444922970695877e-17},      {1000, 6, 1.3776845866887345563e-9},
        {10000, 8, 6.9106043645326910272e-16},     {100000.0, 5, 2.8713508393208364266e-7},
        {1000000.0, 6, 9.8692490617721733495e-10}, {10000000.0, 3, 0.0013499013555185806256},
    };
    for (size_t i = 0; i < N_OF(want); i++)
        near_rel(lm_stats_t_cdf(-want[i].t, want[i].df), want[i].tail, 1e-12);
}

static void test_t_cdf(void **state) {
    for (double t = -30; t <= 30; t += 0.37) {
        near(lm_stats_t_cdf(t, 1), 0.5 + atan(t) / M_PI, 1e-14);
        near(lm_stats_t_cdf(t, 2), 0.5 + t / (2 * sqrt(2 + t * t)), 1e-14);
        double u = t / sqrt(3.0);
        near(lm_stats_t_cdf(t, 3), 0.5 + (u / (1 + u * u) + atan(u)) / M_PI, 1e-14);
    }
    assert_true(lm_stats_t_cdf(INFINITY, 3) == 1 && lm_stats_t_cdf(-INFINITY, 3) == 0);
    assert_true(isnan(lm_stats_t_cdf(NAN, 3)) && isnan(lm_stats_t_cdf(1, 0)));
}

static void test_betainc(void **state) {
    for (double x = 0; x <= 1; x += 0.125) {
        near(lm_stats_betainc(x, 1, 1), x, 1e-15);
        near(lm_stats_betainc(x, 3.5, 1), pow(x, 3.5), 1e-14);
        near(lm_stats_betainc(x, 1, 2.5), 1 - pow(1 - x, 2.5), 1e-14);
        near(lm_stats_betainc(x, 2, 5) + lm_stats_betainc(1 - x, 5, 2), 1, 1e-14);
    }
    /* ln B(40, 40) is about -55: its rounding bounds the accuracy. */
    near(lm_stats_betainc(0.5, 40, 40), 0.5, 1e-13);
    /* P(B <= 5), B ~ Bin(20, 1/2) = I_(1/2)(15, 6):
     * sum(math.comb(20, i) for i in range(6)) / 2**20. */
    near(lm_stats_betainc(0.5, 15, 6), 0.020694732666015625, 1e-14);
    assert_true(isnan(lm_stats_betainc(1.5, 1, 1)) && isnan(lm_stats_betainc(0.5, 0, 1)));
}

static void test_ci_mean_known(void **state) {
    /* mean +- t sd / sqrt(10), with t(0.975, 9) = 2.2621571627982 (R's
     * qt), mean and sd from Python's statistics. */
    lm_stats_ci ci;
    char err[LM_ERRLEN];
    assert_int_equal(lm_stats_ci_mean(x10, 10, 0.95, &ci, err), LM_OK);
    assert_true(ci.ok && ci.level == 0.95);
    near(ci.lo, 2.6522354438365485, 1e-12);
    near(ci.hi, 6.567764556163452, 1e-12);
    /* A higher level is wider. */
    lm_stats_ci wide;
    assert_int_equal(lm_stats_ci_mean(x10, 10, 0.99, &wide, err), LM_OK);
    assert_true(wide.lo < ci.lo && wide.hi > ci.hi);
}

/* The exact ranks, from Python: the largest j with
 * 1 - Fraction(2 * sum(comb(n, i) for i in range(j)), 2**n) >= level. */
static void test_median_ranks(void **state) {
    static const struct {
        size_t n, j95, k95;
        double c95;
        size_t j99, k99;
        double c99;
    } want[] = {
        {6, 1, 6, 0.96875, 0, 0, 0},
        {9, 2, 8, 0.9609375, 1, 9, 0.99609375},
        {10, 2, 9, 0.978515625, 1, 10, 0.998046875},
        {20, 6, 15, 0.9586105346679688, 4, 17, 0.9974231719970703},
        {30, 10, 21, 0.9572260547429323, 8, 23, 0.9947771206498146},
        {50, 18, 33, 0.9671608624357315, 16, 35, 0.9933995520331891},
        {70, 27, 44, 0.9586085713260846, 24, 47, 0.9944173326489766},
        {100, 40, 61, 0.9647997997822951, 37, 64, 0.9933628794840739},
        {1000, 469, 532, 0.9537088026395019, 459, 542, 0.9913600509977395},
    };
    for (size_t i = 0; i < N_OF(want); i++) {
        size_t j, k;
        double c;
        assert_int_equal(lm_stats_median_ranks(want[i].n, 0.95, &j, &k, &c), 1);
        assert_int_equal(j, want[i].j95);
        assert_int_equal(k, want[i].k95);
        near(c, want[i].c95, 1e-12);
        int found = lm_stats_median_ranks(want[i].n, 0.99, &j, &k, &c);
        assert_int_equal(found, want[i].j99 != 0);
        assert_int_equal(j, want[i].j99);
        assert_int_equal(k, want[i].k99);
        near(c, want[i].c99, 1e-12);
    }
    size_t j, k;
    double c;
    for (size_t n = 0; n < 6; n++)
        assert_int_equal(lm_stats_median_ranks(n, 0.95, &j, &k, &c), 0);
    for (size_t n = 0; n < 8; n++)
        assert_int_equal(lm_stats_median_ranks(n, 0.99, &j, &k, &c), 0);
    assert_int_equal(lm_stats_median_ranks(8, 0.99, &j, &k, &c), 1);
    /* Large n: the ranks sit about 0.98 sqrt(n) from the middle (Le Boudec's
     * normal approximation), and the coverage just reaches the level. */
    assert_int_equal(lm_stats_median_ranks(1000000, 0.95, &j, &k, &c), 1);
    assert_true(j > 499000 && j < 499030 && k == 1000001 - j && c >= 0.95 && c < 0.9505);
    assert_int_equal(lm_stats_median_ranks(10, 1.5, &j, &k, &c), 0);
}

static void test_ci_median_known(void **state) {
    double x[N_OF(x10)];
    memcpy(x, x10, sizeof x);
    lm_stats_sort(x, N_OF(x));
    lm_stats_ci ci;
    char err[LM_ERRLEN];
    assert_int_equal(lm_stats_ci_median(x, 10, 0.95, &ci, err), LM_OK);
    /* n = 10: ranks 2 and 9 of 1.2 2.2 2.5 3.1 3.3 4.7 5.0 6.4 7.8 9.9. */
    assert_true(ci.ok && ci.j == 2 && ci.k == 9);
    assert_true(ci.lo == 2.2 && ci.hi == 7.8);
    near(ci.coverage, 0.978515625, 1e-15);
    assert_int_equal(lm_stats_ci_median(x, 5, 0.95, &ci, err), LM_OK);
    assert_false(ci.ok);
}

/* A standard normal by Box-Muller from the seeded stream. */
static double normal(lm_stats_rng *r) {
    double u1 = lm_stats_rng_uniform(r), u2 = lm_stats_rng_uniform(r);
    return sqrt(-2 * log(1 - u1)) * cos(2 * M_PI * u2);
}

/* 2,000 samples of 10 from N(5, 2^2): the 95% interval of the mean holds
 * 5 in 95% of them, within 3 standard errors (sqrt(.95 .05 / 2000) =
 * 0.0049). An interval with z = 1.96 instead of t would hold it in about
 * 92%, below the band. */
static void test_ci_mean_coverage(void **state) {
    lm_stats_rng r = {20240601};
    int hits = 0, trials = 2000;
    double x[10];
    char err[LM_ERRLEN];
    for (int t = 0; t < trials; t++) {
        for (int i = 0; i < 10; i++)
            x[i] = 5 + 2 * normal(&r);
        lm_stats_ci ci;
        assert_int_equal(lm_stats_ci_mean(x, 10, 0.95, &ci, err), LM_OK);
        hits += ci.lo <= 5 && 5 <= ci.hi;
    }
    double cov = (double)hits / trials;
    if (cov < 0.935 || cov > 0.965) fail_msg("mean interval coverage %.4f", cov);
}

/* 2,000 samples of 20 from Exp(1), true median ln 2: the median's interval
 * holds it at least as often as 95% (its exact coverage is 0.9586 for
 * n = 20), within 3 standard errors. */
static void test_ci_median_coverage(void **state) {
    lm_stats_rng r = {7};
    int hits = 0, trials = 2000;
    double x[20];
    char err[LM_ERRLEN];
    for (int t = 0; t < trials; t++) {
        for (int i = 0; i < 20; i++)
            x[i] = -log(1 - lm_stats_rng_uniform(&r));
        lm_stats_sort(x, 20);
        lm_stats_ci ci;
        assert_int_equal(lm_stats_ci_median(x, 20, 0.95, &ci, err), LM_OK);
        hits += ci.lo <= M_LN2 && M_LN2 <= ci.hi;
    }
    double cov = (double)hits / trials, se = sqrt(0.9586 * 0.0414 / trials);
    if (cov < 0.95 - 0.005 || fabs(cov - 0.9586) > 3 * se)
        fail_msg("median interval coverage %.4f (exact 0.9586)", cov);
}

static void test_rng(void **state) {
    /* splitmix64's published first outputs for seed 0. */
    lm_stats_rng r = {0};
    assert_true(lm_stats_rng_next(&r) == 0xE220A8397B1DCDAFull);
    assert_true(lm_stats_rng_next(&r) == 0x6E789E6AA1B965F4ull);
    assert_true(lm_stats_rng_next(&r) == 0x06C45D188009454Full);
    lm_stats_rng s = {42};
    for (int i = 0; i < 1000; i++) {
        assert_true(lm_stats_rng_below(&s, 7) < 7);
        double u = lm_stats_rng_uniform(&s);
        assert_true(u >= 0 && u < 1);
    }
}

/* The bootstrap as it is written down in docs/stats.md, naively: draw na
 * then nb indices per resample from one stream, sort each resample, take
 * its type-7 median; the percentile interval of the ratios. */
static void naive_boot(const double *a, size_t na, const double *b, size_t nb, unsigned B,
                       uint64_t seed, double *lo, double *hi) {
    lm_stats_rng r = {seed};
    double *ra = malloc(na * sizeof *ra), *rb = malloc(nb * sizeof *rb), *q = malloc(B * sizeof *q);
    double *sa = malloc(na * sizeof *sa), *sb = malloc(nb * sizeof *sb);
    memcpy(sa, a, na * sizeof *sa);
    memcpy(sb, b, nb * sizeof *sb);
    lm_stats_sort(sa, na);
    lm_stats_sort(sb, nb);
    for (unsigned i = 0; i < B; i++) {
        for (size_t j = 0; j < na; j++)
            ra[j] = sa[lm_stats_rng_below(&r, na)];
        for (size_t j = 0; j < nb; j++)
            rb[j] = sb[lm_stats_rng_below(&r, nb)];
        lm_stats_sort(ra, na);
        lm_stats_sort(rb, nb);
        q[i] = lm_stats_quantile(ra, na, 0.5) / lm_stats_quantile(rb, nb, 0.5);
    }
    lm_stats_sort(q, B);
    *lo = lm_stats_quantile(q, B, (1 - 0.95) / 2);
    *hi = lm_stats_quantile(q, B, 1 - (1 - 0.95) / 2);
    free(ra), free(rb), free(q), free(sa), free(sb);
}

static void test_bootstrap(void **state) {
    lm_stats_rng r = {99};
    double a[31], b[40];
    for (size_t i = 0; i < N_OF(a); i++)
        a[i] = 2 * -log(1 - lm_stats_rng_uniform(&r));
    for (size_t i = 0; i < N_OF(b); i++)
        b[i] = -log(1 - lm_stats_rng_uniform(&r));
    char err[LM_ERRLEN];
    lm_stats_ratio x, y;
    lm_stats_boot_opts o = {500, 3, 0.95, LM_STATS_MEDIAN};
    assert_int_equal(lm_stats_bootstrap_ratio(a, 31, b, 40, &o, &x, err), LM_OK);
    /* The same seed: the same bits; the count walk equals sorting. */
    assert_int_equal(lm_stats_bootstrap_ratio(a, 31, b, 40, &o, &y, err), LM_OK);
    assert_memory_equal(&x, &y, sizeof x);
    double lo, hi;
    naive_boot(a, 31, b, 40, 500, 3, &lo, &hi);
    assert_true(x.ci.lo == lo && x.ci.hi == hi);
    assert_true(x.ci.ok && x.resamples == 500 && x.seed == 3);
    assert_true(x.ci.lo < x.ratio && x.ratio < x.ci.hi);
    /* An even-sized sample: the median is the mean of the middle pair. */
    naive_boot(b, 40, a, 30, 300, 11, &lo, &hi);
    o.resamples = 300, o.seed = 11;
    assert_int_equal(lm_stats_bootstrap_ratio(b, 40, a, 30, &o, &y, err), LM_OK);
    assert_true(y.ci.lo == lo && y.ci.hi == hi);
    /* Another seed, another interval. */
    o.resamples = 500, o.seed = 4;
    assert_int_equal(lm_stats_bootstrap_ratio(a, 31, b, 40, &o, &y, err), LM_OK);
    assert_true(y.ratio == x.ratio && (y.ci.lo != x.ci.lo || y.ci.hi != x.ci.hi));
    /* Halving a sample doubles the ratio exactly. */
    double half[40];
    for (int i = 0; i < 40; i++)
        half[i] = b[i] / 2;
    assert_int_equal(lm_stats_bootstrap_ratio(b, 40, half, 40, NULL, &y, err), LM_OK);
    assert_true(y.ratio == 2 && y.ci.lo <= 2 && y.ci.hi >= 2);
    assert_true(y.resamples == LM_STATS_BOOT_B && y.seed == 1 && y.ci.level == 0.95);
    /* Means. */
    o.center = LM_STATS_MEAN;
    assert_int_equal(lm_stats_bootstrap_ratio(a, 31, b, 40, &o, &y, err), LM_OK);
    near(y.ratio, lm_stats_mean(a, 31) / lm_stats_mean(b, 40), 1e-15);
    assert_true(y.ci.lo < y.ratio && y.ratio < y.ci.hi);
}

/* Identical samples: the ratio is 1 and its interval is about symmetric
 * around it in logarithm (the resamples of both sides are alike). */
static void test_bootstrap_identical(void **state) {
    lm_stats_rng r = {5};
    double a[200];
    for (int i = 0; i < 200; i++)
        a[i] = 1 + 0.1 * normal(&r);
    lm_stats_ratio x;
    char err[LM_ERRLEN];
    assert_int_equal(lm_stats_bootstrap_ratio(a, 200, a, 200, NULL, &x, err), LM_OK);
    assert_true(x.ratio == 1);
    assert_true(x.ci.lo < 1 && x.ci.hi > 1);
    assert_true(fabs(log(x.ci.lo) + log(x.ci.hi)) < 0.1 * (log(x.ci.hi) - log(x.ci.lo)));
}

static void test_bootstrap_errors(void **state) {
    double a[] = {1, 2, 3}, z[] = {0, 0, 1}, one[] = {4};
    lm_stats_ratio x;
    char err[LM_ERRLEN];
    assert_int_equal(lm_stats_bootstrap_ratio(a, 3, NULL, 0, NULL, &x, err), LM_ERR);
    assert_string_equal(err, "bootstrap: a ratio needs values on both sides (3 and 0)");
    assert_int_equal(lm_stats_bootstrap_ratio(a, 3, z, 3, NULL, &x, err), LM_ERR);
    assert_string_equal(err, "bootstrap: the baseline's median is 0: no ratio to it");
    lm_stats_boot_opts o = {10, 1, 2, LM_STATS_MEDIAN};
    assert_int_equal(lm_stats_bootstrap_ratio(a, 3, a, 3, &o, &x, err), LM_ERR);
    assert_string_equal(err, "bootstrap: confidence level 2 is not between 0 and 1");
    double nan_[] = {1, NAN};
    assert_int_equal(lm_stats_bootstrap_ratio(a, 3, nan_, 2, NULL, &x, err), LM_ERR);
    assert_string_equal(err, "statistics: value 1 of 2 is nan: only finite numbers count");
    /* One value on a side: the ratio, but no interval. */
    assert_int_equal(lm_stats_bootstrap_ratio(one, 1, a, 3, NULL, &x, err), LM_OK);
    assert_true(x.ratio == 2 && !x.ci.ok && isnan(x.ci.lo));
    /* A resample of z's median is 0 now and then (two of its three are). */
    double zz[] = {0, 1, 1};
    assert_int_equal(lm_stats_bootstrap_ratio(a, 3, zz, 3, NULL, &x, err), LM_ERR);
    assert_string_equal(err,
                        "bootstrap: a resample of the baseline has a median of 0: no ratio to it");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_describe_known),
        cmocka_unit_test(test_quantile_type7),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_t_quantile),
        cmocka_unit_test(test_t_quantile_mpmath),
        cmocka_unit_test(test_t_tails_mpmath),
        cmocka_unit_test(test_t_cdf),
        cmocka_unit_test(test_betainc),
        cmocka_unit_test(test_ci_mean_known),
        cmocka_unit_test(test_median_ranks),
        cmocka_unit_test(test_ci_median_known),
        cmocka_unit_test(test_ci_mean_coverage),
        cmocka_unit_test(test_ci_median_coverage),
        cmocka_unit_test(test_rng),
        cmocka_unit_test(test_bootstrap),
        cmocka_unit_test(test_bootstrap_identical),
        cmocka_unit_test(test_bootstrap_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
