/* ks.c -- the Kolmogorov-Smirnov statistic and its 1 % critical value (ks.h). */
#include "ks.h"

#include <math.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double lm_test_ks(double *x, size_t n, double (*cdf)(double, const void *), const void *arg) {
    qsort(x, n, sizeof(*x), cmp);
    double d = 0;
    for (size_t i = 0; i < n; i++) {
        double f = cdf(x[i], arg), above = (double)(i + 1) / (double)n - f,
               below = f - (double)i / (double)n;
        if (above > d) d = above;
        if (below > d) d = below;
    }
    return d;
}

double lm_test_ks_critical_01(size_t n) {
    double c = sqrt(-log(0.005) / 2), s = sqrt((double)n);
    return c / (s + 0.12 + 0.11 / s);
}

double lm_test_cdf_exp(double x, const void *rate) {
    return x <= 0 ? 0 : 1 - exp(-*(const double *)rate * x);
}

double lm_test_cdf_uniform01(double x, const void *unused) {
    (void)unused;
    return x <= 0 ? 0 : x >= 1 ? 1 : x;
}
