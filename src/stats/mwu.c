/* mwu.c -- the Mann-Whitney U test of two independent samples (stats.h):
 * midranks over the pooled sample, U of the first, and its two-sided
 * p-value, exact from the distribution of U when there are no ties and
 * both samples are small, else from the normal approximation with the tie
 * correction and a continuity correction. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats/stats.h"

typedef struct {
    double v;
    int from_a;
} tagged;

static int by_value(const void *x, const void *y) {
    double a = ((const tagged *)x)->v, b = ((const tagged *)y)->v;
    return a < b ? -1 : a > b;
}

/* P(U <= u) for U of samples of sizes m and n without ties, from the
 * counts of the arrangements: f(m, n, u) = f(m - 1, n, u - n) + f(m, n - 1, u)
 * (Mann & Whitney 1947), row by row in m, in doubles (exact integers up to
 * 2^53; relative rounding of 1e-16 above). NaN when out of memory. */
static double exact_cdf(size_t m, size_t n, double u) {
    size_t top = m * n;
    /* f[j][t] for the current m over n' = 0..n: (n + 1) rows of top + 1. */
    double *f = calloc((n + 1) * (top + 1), sizeof *f);
    double *g = calloc((n + 1) * (top + 1), sizeof *g);
    if (!f || !g) {
        free(f);
        free(g);
        return NAN;
    }
    /* m = 0: one arrangement, U = 0, for every n'. */
    for (size_t j = 0; j <= n; j++)
        f[j * (top + 1)] = 1;
    for (size_t i = 1; i <= m; i++) {
        memset(g, 0, (n + 1) * (top + 1) * sizeof *g);
        g[0] = 1; /* n' = 0: U = 0 */
        for (size_t j = 1; j <= n; j++)
            for (size_t t = 0; t <= i * j; t++) {
                double x = g[(j - 1) * (top + 1) + t];
                if (t >= j) x += f[j * (top + 1) + t - j];
                g[j * (top + 1) + t] = x;
            }
        double *s = f;
        f = g;
        g = s;
    }
    double below = 0, all = 0;
    for (size_t t = 0; t <= top; t++) {
        all += f[n * (top + 1) + t];
        if ((double)t <= u) below += f[n * (top + 1) + t];
    }
    free(f);
    free(g);
    return below / all;
}

int lm_stats_mann_whitney(const double *a, size_t na, const double *b, size_t nb, lm_stats_mwu *out,
                          char *err) {
    memset(out, 0, sizeof *out);
    out->u = out->z = out->p = out->effect = NAN;
    if (na == 0 || nb == 0)
        return lm_errf(err, "mann-whitney: a test needs values on both sides (%zu and %zu)", na,
                       nb);
    if (lm_stats_check(a, na, err) != LM_OK || lm_stats_check(b, nb, err) != LM_OK) return LM_ERR;
    size_t n = na + nb;
    tagged *t = malloc(n * sizeof *t);
    if (!t) return lm_errf(err, "mann-whitney: out of memory");
    for (size_t i = 0; i < na; i++)
        t[i] = (tagged){a[i], 1};
    for (size_t i = 0; i < nb; i++)
        t[na + i] = (tagged){b[i], 0};
    qsort(t, n, sizeof *t, by_value);
    /* Midranks: a run of equal values shares the mean of its ranks. */
    double ra = 0, ties = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && t[j].v == t[i].v)
            j++;
        double rank = ((double)i + 1 + (double)j) / 2, len = (double)(j - i);
        for (size_t k = i; k < j; k++)
            if (t[k].from_a) ra += rank;
        ties += len * len * len - len;
        i = j;
    }
    free(t);
    double dna = (double)na, dnb = (double)nb, dn = (double)n;
    out->u = ra - dna * (dna + 1) / 2;
    out->effect = out->u / (dna * dnb);
    out->ties = ties > 0;
    double mean = dna * dnb / 2;
    if (!out->ties && na <= LM_STATS_MWU_EXACT && nb <= LM_STATS_MWU_EXACT) {
        /* Two-sided: twice the smaller tail (the distribution is symmetric). */
        double lo = out->u <= mean ? out->u : dna * dnb - out->u;
        double p = 2 * exact_cdf(na, nb, lo);
        if (isnan(p)) return lm_errf(err, "mann-whitney: out of memory");
        out->p = p > 1 ? 1 : p;
        out->exact = 1;
        out->z = 0;
        return LM_OK;
    }
    double var = dna * dnb / 12 * ((dn + 1) - ties / (dn * (dn - 1)));
    if (!(var > 0)) { /* every value equal: no evidence of a difference */
        out->z = 0;
        out->p = 1;
        return LM_OK;
    }
    double d = out->u - mean;
    double cc = d > 0.5 ? d - 0.5 : d < -0.5 ? d + 0.5 : 0;
    out->z = cc / sqrt(var);
    out->p = erfc(fabs(out->z) / M_SQRT2);
    if (out->p > 1) out->p = 1;
    return LM_OK;
}
