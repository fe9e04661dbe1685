/* quantile_ci.c -- the distribution-free interval of any quantile from
 * binomial order statistics (stats.h), the median's interval generalized:
 * the number of values below the true p-quantile is Bin(n, p). */
#include <math.h>

#include "stats/stats.h"

/* The binomial pmf at i, from logs. */
static double pmf(size_t n, double p, size_t i) {
    double dn = (double)n, di = (double)i;
    return exp(lgamma(dn + 1) - lgamma(di + 1) - lgamma(dn - di + 1) + di * log(p) +
               (dn - di) * log1p(-p));
}

/* P(B <= m) for B ~ Bin(n, p), 0 < p < 1: below the mode the terms from m
 * down (each from the one above), above it 1 - P(B >= m + 1) from m + 1
 * up, each tail summed until its terms no longer add. */
double lm_stats_binom_cdf(size_t n, double p, size_t m) {
    if (m >= n) return 1;
    if (!(p > 0 && p < 1)) return p <= 0 ? 1 : 0;
    double mode = floor(((double)n + 1) * p);
    double q = 1 - p, sum = 0;
    if ((double)m < mode) {
        double term = pmf(n, p, m), i = (double)m;
        for (;;) {
            sum += term;
            if (i == 0 || term == 0 || term < sum * 1e-18) break;
            term *= i / ((double)n - i + 1) * q / p;
            i -= 1;
        }
        return sum;
    }
    double term = pmf(n, p, m + 1), i = (double)(m + 1);
    for (;;) {
        sum += term;
        if (i >= (double)n || term == 0 || term < sum * 1e-18) break;
        term *= ((double)n - i) / (i + 1) * p / q;
        i += 1;
    }
    return 1 - sum;
}

int lm_stats_quantile_ranks(size_t n, double p, double level, size_t *j, size_t *k,
                            double *coverage) {
    *j = *k = 0;
    *coverage = 0;
    if (!(level > 0 && level < 1) || !(p > 0 && p < 1) || n == 0) return 0;
    double tail = (1 - level) / 2;
    /* j: the largest rank with P(B <= j - 1) <= tail (the value of rank j
     * is above the quantile with at most that probability). */
    double below = 0, above = 0;
    if (lm_stats_binom_cdf(n, p, 0) <= tail) {
        size_t lo = 1, hi = n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo + 1) / 2;
            if (lm_stats_binom_cdf(n, p, mid - 1) <= tail)
                lo = mid;
            else
                hi = mid - 1;
        }
        *j = lo;
        below = lm_stats_binom_cdf(n, p, lo - 1);
    }
    /* k: the smallest rank with P(B >= k) = 1 - P(B <= k - 1) <= tail. */
    if (1 - lm_stats_binom_cdf(n, p, n - 1) <= tail) {
        size_t lo = 1, hi = n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (1 - lm_stats_binom_cdf(n, p, mid - 1) <= tail)
                hi = mid;
            else
                lo = mid + 1;
        }
        *k = lo;
        above = 1 - lm_stats_binom_cdf(n, p, lo - 1);
    }
    if (*j && *k && *j < *k) {
        *coverage = 1 - below - above;
        return 1;
    }
    return 0;
}

int lm_stats_ci_quantile(const double *sorted, size_t n, double p, double level, lm_stats_ci *out,
                         char *err) {
    out->ok = 0;
    out->level = level;
    out->lo = out->hi = NAN;
    out->j = out->k = 0;
    out->coverage = 0;
    if (!(level > 0 && level < 1))
        return lm_errf(err, "statistics: confidence level %g is not between 0 and 1 (0.95 is 95%%)",
                       level);
    if (!(p > 0 && p < 1))
        return lm_errf(err, "statistics: quantile %g is not between 0 and 1 (exclusive)", p);
    if (lm_stats_check(sorted, n, err) != LM_OK) return LM_ERR;
    size_t j, k;
    double cov;
    out->ok = lm_stats_quantile_ranks(n, p, level, &j, &k, &cov);
    out->j = j;
    out->k = k;
    out->coverage = cov;
    if (j) out->lo = sorted[j - 1];
    if (k) out->hi = sorted[k - 1];
    return LM_OK;
}
