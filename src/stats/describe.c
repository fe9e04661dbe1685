/* describe.c -- descriptive statistics (stats.h): the check of the input,
 * sorting, type-7 quantiles, mean, sample standard deviation, and all of
 * them for one sample. */
#include <math.h>
#include <stdlib.h>

#include "stats/stats.h"

int lm_stats_check(const double *x, size_t n, char *err) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return lm_errf(err, "statistics: value %zu of %zu is %g: only finite numbers count", i,
                           n, x[i]);
    return LM_OK;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void lm_stats_sort(double *x, size_t n) {
    if (n > 1) qsort(x, n, sizeof *x, cmp_double);
}

double lm_stats_quantile(const double *sorted, size_t n, double p) {
    if (n == 0 || !(p >= 0 && p <= 1)) return NAN;
    double h = (double)(n - 1) * p;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n) return sorted[n - 1];
    double f = h - (double)lo;
    return sorted[lo] + f * (sorted[lo + 1] - sorted[lo]);
}

double lm_stats_mean(const double *x, size_t n) {
    if (n == 0) return NAN;
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    double m = s / (double)n, d = 0;
    for (size_t i = 0; i < n; i++)
        d += x[i] - m;
    return m + d / (double)n;
}

double lm_stats_sd(const double *x, size_t n) {
    if (n < 2) return NAN;
    double m = lm_stats_mean(x, n), ss = 0, d = 0;
    for (size_t i = 0; i < n; i++) {
        ss += (x[i] - m) * (x[i] - m);
        d += x[i] - m;
    }
    /* The corrected two-pass formula (Chan, Golub & LeVeque 1983). */
    double var = (ss - d * d / (double)n) / (double)(n - 1);
    return var > 0 ? sqrt(var) : 0;
}

int lm_stats_describe(double *x, size_t n, lm_stats_desc *out, char *err) {
    out->n = n;
    out->mean = out->median = out->p90 = out->p99 = out->p999 = NAN;
    out->sd = out->cv = out->min = out->max = NAN;
    if (lm_stats_check(x, n, err) != LM_OK) return LM_ERR;
    if (n == 0) return LM_OK;
    lm_stats_sort(x, n);
    out->mean = lm_stats_mean(x, n);
    out->median = lm_stats_quantile(x, n, 0.5);
    out->p90 = lm_stats_quantile(x, n, 0.90);
    out->p99 = lm_stats_quantile(x, n, 0.99);
    out->p999 = lm_stats_quantile(x, n, 0.999);
    out->min = x[0];
    out->max = x[n - 1];
    out->sd = lm_stats_sd(x, n);
    if (n >= 2 && out->mean != 0) out->cv = out->sd / out->mean;
    return LM_OK;
}
