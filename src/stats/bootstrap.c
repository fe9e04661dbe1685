/* bootstrap.c -- the seeded bootstrap of a ratio of two samples' centers
 * (stats.h), on the host's PRNG, splitmix64 (util/rng.h).
 *
 * Each of the B resamples draws na indices into a, then nb into b, uniform
 * with replacement (lm_stats_rng_below, in that order, from one stream), and
 * takes center(a*) / center(b*). A resample's median needs no sorting: the
 * samples are sorted once, a resample is a count per index, and its order
 * statistics are found by walking the counts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats/stats.h"

uint64_t lm_stats_rng_next(lm_stats_rng *r) { return lm_rng_next(r); }

uint64_t lm_stats_rng_below(lm_stats_rng *r, uint64_t n) { return lm_rng_below(r, n); }

double lm_stats_rng_uniform(lm_stats_rng *r) {
    return (double)(lm_stats_rng_next(r) >> 11) * 0x1.0p-53;
}

/* The value of 0-based rank q in the resample whose counts over the
 * sorted sample s are cnt. */
static double rank_value(const double *s, const unsigned *cnt, size_t n, size_t q) {
    size_t seen = 0;
    for (size_t i = 0; i < n; i++) {
        seen += cnt[i];
        if (seen > q) return s[i];
    }
    return s[n - 1];
}

/* One resample of the sorted sample s[0..n) and its center. */
static double resample_center(lm_stats_rng *rng, const double *s, size_t n, unsigned *cnt,
                              lm_stats_center c) {
    if (c == LM_STATS_MEAN) {
        double sum = 0;
        for (size_t i = 0; i < n; i++)
            sum += s[lm_stats_rng_below(rng, n)];
        return sum / (double)n;
    }
    memset(cnt, 0, n * sizeof *cnt);
    for (size_t i = 0; i < n; i++)
        cnt[lm_stats_rng_below(rng, n)]++;
    /* The type-7 median: the middle order statistic, or the mean of the
     * two middle ones. */
    double lo = rank_value(s, cnt, n, (n - 1) / 2);
    return n % 2 ? lo : lo + (rank_value(s, cnt, n, n / 2) - lo) / 2;
}

static double center_of(const double *s, size_t n, lm_stats_center c) {
    return c == LM_STATS_MEAN ? lm_stats_mean(s, n) : lm_stats_quantile(s, n, 0.5);
}

int lm_stats_bootstrap_ratio(const double *a, size_t na, const double *b, size_t nb,
                             const lm_stats_boot_opts *opts, lm_stats_ratio *out, char *err) {
    lm_stats_boot_opts o = {LM_STATS_BOOT_B, 1, 0.95, LM_STATS_MEDIAN};
    if (opts) o = *opts;
    if (o.resamples == 0) o.resamples = LM_STATS_BOOT_B;
    if (o.level == 0) o.level = 0.95;
    memset(out, 0, sizeof *out);
    out->ratio = out->ci.lo = out->ci.hi = NAN;
    out->ci.level = o.level;
    out->resamples = o.resamples;
    out->seed = o.seed;
    if (!(o.level > 0 && o.level < 1))
        return lm_errf(err, "bootstrap: confidence level %g is not between 0 and 1", o.level);
    if (na == 0 || nb == 0)
        return lm_errf(err, "bootstrap: a ratio needs values on both sides (%zu and %zu)", na, nb);
    if (lm_stats_check(a, na, err) != LM_OK || lm_stats_check(b, nb, err) != LM_OK) return LM_ERR;

    int rc = LM_ERR;
    double *sa = malloc(na * sizeof *sa), *sb = malloc(nb * sizeof *sb);
    unsigned *cnt = malloc((na > nb ? na : nb) * sizeof *cnt);
    double *ratios = malloc(o.resamples * sizeof *ratios);
    if (!sa || !sb || !cnt || !ratios) {
        lm_errf(err, "bootstrap: out of memory");
        goto out;
    }
    memcpy(sa, a, na * sizeof *sa);
    memcpy(sb, b, nb * sizeof *sb);
    lm_stats_sort(sa, na);
    lm_stats_sort(sb, nb);
    double den = center_of(sb, nb, o.center);
    if (den == 0) {
        lm_errf(err, "bootstrap: the baseline's %s is 0: no ratio to it",
                o.center == LM_STATS_MEAN ? "mean" : "median");
        goto out;
    }
    out->ratio = center_of(sa, na, o.center) / den;
    if (na < 2 || nb < 2) {
        rc = LM_OK;
        goto out;
    }
    lm_stats_rng rng = {o.seed};
    for (unsigned r = 0; r < o.resamples; r++) {
        double num = resample_center(&rng, sa, na, cnt, o.center);
        double d = resample_center(&rng, sb, nb, cnt, o.center);
        if (d == 0) {
            lm_errf(err, "bootstrap: a resample of the baseline has a %s of 0: no ratio to it",
                    o.center == LM_STATS_MEAN ? "mean" : "median");
            goto out;
        }
        ratios[r] = num / d;
    }
    lm_stats_sort(ratios, o.resamples);
    out->ci.ok = 1;
    out->ci.lo = lm_stats_quantile(ratios, o.resamples, (1 - o.level) / 2);
    out->ci.hi = lm_stats_quantile(ratios, o.resamples, 1 - (1 - o.level) / 2);
    rc = LM_OK;
out:
    free(sa);
    free(sb);
    free(cnt);
    free(ratios);
    return rc;
}
