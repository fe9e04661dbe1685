/* ci.c -- confidence intervals (stats.h): the mean's by Student t and the
 * median's from binomial order statistics. */
#include <math.h>

#include "stats/stats.h"

static void ci_none(lm_stats_ci *out, double level) {
    out->ok = 0;
    out->level = level;
    out->lo = out->hi = NAN;
    out->j = out->k = 0;
    out->coverage = 0;
}

static int check_level(double level, char *err) {
    if (level > 0 && level < 1) return LM_OK;
    return lm_errf(err, "statistics: confidence level %g is not between 0 and 1 (0.95 is 95%%)",
                   level);
}

int lm_stats_ci_mean(const double *x, size_t n, double level, lm_stats_ci *out, char *err) {
    ci_none(out, level);
    if (check_level(level, err) != LM_OK || lm_stats_check(x, n, err) != LM_OK) return LM_ERR;
    if (n < 2) return LM_OK;
    double m = lm_stats_mean(x, n), sd = lm_stats_sd(x, n);
    double t = lm_stats_t_quantile(1 - (1 - level) / 2, (double)(n - 1));
    double half = t * sd / sqrt((double)n);
    out->ok = 1;
    out->lo = m - half;
    out->hi = m + half;
    return LM_OK;
}

/* P(B <= m) for B ~ Bin(n, 1/2): the terms from m down, each from the one
 * above (pmf(i - 1) = pmf(i) i / (n - i + 1)), until they no longer add. */
static double binom_half_cdf(size_t n, size_t m) {
    if (m >= n) return 1;
    double dn = (double)n, i = (double)m;
    double term = exp(lgamma(dn + 1) - lgamma(i + 1) - lgamma(dn - i + 1) - dn * log(2.0));
    double sum = 0;
    for (;;) {
        sum += term;
        /* term 0: the rest underflowed too (they only get smaller). */
        if (i == 0 || term == 0 || term < sum * 1e-18) break;
        term *= i / (dn - i + 1);
        i -= 1;
    }
    return sum;
}

int lm_stats_median_ranks(size_t n, double level, size_t *j, size_t *k, double *coverage) {
    *j = *k = 0;
    *coverage = 0;
    if (!(level > 0 && level < 1) || n < 2) return 0;
    /* coverage(r) = P(r <= B <= n - r) = 1 - 2 P(B <= r - 1) falls as r
     * grows: find the largest r in [1, n / 2] that still reaches level. */
    size_t lo = 1, hi = n / 2;
    if (1 - 2 * binom_half_cdf(n, 0) < level) return 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        if (1 - 2 * binom_half_cdf(n, mid - 1) >= level)
            lo = mid;
        else
            hi = mid - 1;
    }
    *j = lo;
    *k = n + 1 - lo;
    *coverage = 1 - 2 * binom_half_cdf(n, lo - 1);
    return 1;
}

int lm_stats_ci_median(const double *sorted, size_t n, double level, lm_stats_ci *out, char *err) {
    ci_none(out, level);
    if (check_level(level, err) != LM_OK || lm_stats_check(sorted, n, err) != LM_OK) return LM_ERR;
    size_t j, k;
    double cov;
    if (!lm_stats_median_ranks(n, level, &j, &k, &cov)) return LM_OK;
    out->ok = 1;
    out->lo = sorted[j - 1];
    out->hi = sorted[k - 1];
    out->j = j;
    out->k = k;
    out->coverage = cov;
    return LM_OK;
}
