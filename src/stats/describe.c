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

/* Introsort: quicksort on the median of three with Hoare's partition,
 * the smaller side first, insertion sort below 16 values, and qsort where
 * the depth passes 2 log2 n (so no input is quadratic). About twice as fast
 * as qsort's comparisons through a pointer, which a report of a million
 * rows pays for every metric. */
static void insertion(double *x, size_t n) {
    for (size_t i = 1; i < n; i++) {
        double v = x[i];
        size_t j = i;
        while (j > 0 && x[j - 1] > v) {
            x[j] = x[j - 1];
            j--;
        }
        x[j] = v;
    }
}

static void swap2(double *a, double *b) {
    double t = *a;
    *a = *b;
    *b = t;
}

static void intro(double *x, size_t n, int depth) {
    while (n > 16) {
        if (depth-- == 0) {
            qsort(x, n, sizeof *x, cmp_double);
            return;
        }
        size_t mid = n / 2;
        if (x[mid] < x[0]) swap2(&x[mid], &x[0]);
        if (x[n - 1] < x[0]) swap2(&x[n - 1], &x[0]);
        if (x[n - 1] < x[mid]) swap2(&x[n - 1], &x[mid]);
        double p = x[mid];
        size_t i = 0, j = n - 1;
        /* x[0] <= p <= x[n - 1] stop both scans inside the array. */
        for (;;) {
            while (x[i] < p)
                i++;
            while (x[j] > p)
                j--;
            if (i >= j) break;
            swap2(&x[i], &x[j]);
            i++;
            j--;
        }
        /* [0, j] <= p <= [j + 1, n) */
        size_t left = j + 1;
        if (left < n - left) {
            intro(x, left, depth);
            x += left;
            n -= left;
        } else {
            intro(x + left, n - left, depth);
            n = left;
        }
    }
    insertion(x, n);
}

void lm_stats_sort(double *x, size_t n) {
    int depth = 0;
    for (size_t m = n; m > 1; m >>= 1)
        depth += 2;
    if (n > 1) intro(x, n, depth);
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
