/* stats.h -- the statistics room: descriptive statistics and confidence
 * intervals over an array of doubles, pure math (no SQLite, no I/O), for
 * `lumos results summary` and any report. docs/stats.md gives every
 * definition; in short:
 *
 *   quantile     Hyndman & Fan type 7 (linear interpolation between order
 *                statistics, the default of R and numpy): h = (n - 1) p,
 *                q = x[floor h] + (h - floor h) (x[floor h + 1] - x[floor h])
 *                over the sorted x[0..n).
 *   sd           the sample standard deviation (divisor n - 1); cv = sd / mean.
 *   mean CI      mean +- t(1 - (1 - level) / 2, n - 1) sd / sqrt(n), Student t;
 *                the t quantile is computed here (bisection on the t CDF,
 *                itself the regularized incomplete beta function).
 *   median CI    [x(j), x(k)], k = n + 1 - j, j the largest rank whose exact
 *                binomial coverage P(j <= B <= n - j), B ~ Bin(n, 1/2), is at
 *                least level (Le Boudec, "Performance Evaluation of Computer
 *                and Communication Systems", thm. 2.1; as SeBS reports it).
 *   bootstrap    the ratio of two samples' medians (or means), percentile
 *                method over B two-sample resamples drawn with splitmix64
 *                from a seed: the same seed gives the same interval.
 *
 * Inputs: NaN and infinities are refused (lm_stats_check); a function that
 * cannot give a value for so few samples returns NaN, or ok = 0 in an
 * interval. Errors are LM_OK / LM_ERR with a message in err (LM_ERRLEN
 * bytes, may be NULL). Nothing here allocates except where it says so. */
#ifndef LM_STATS_H
#define LM_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "util/rng.h"
#include "util/util.h"

/* LM_OK when every x[i] is finite; LM_ERR naming the first that is not. */
int lm_stats_check(const double *x, size_t n, char *err);

/* Sorts x[0..n) ascending in place (finite values). */
void lm_stats_sort(double *x, size_t n);

/* The type-7 quantile p (0 <= p <= 1) of sorted[0..n). NaN when n is 0 or
 * p is outside [0, 1]. */
double lm_stats_quantile(const double *sorted, size_t n, double p);

/* The arithmetic mean (NaN when n is 0), computed in two passes (a mean
 * of the deviations from the first pass corrects the rounding). */
double lm_stats_mean(const double *x, size_t n);

/* The sample standard deviation, divisor n - 1 (NaN when n < 2). */
double lm_stats_sd(const double *x, size_t n);

/* The descriptive statistics of one sample. Fields that need more
 * samples than there are are NaN: everything for n = 0; sd and cv for
 * n = 1; cv also when the mean is 0. */
typedef struct {
    size_t n;
    double mean, median, p90, p99, p999; /* p999: the 0.999 quantile */
    double sd, cv, min, max;
} lm_stats_desc;

/* Describes x[0..n), sorting x in place (the caller's array is the
 * scratch space). LM_ERR when a value is not finite (x is then unsorted). */
int lm_stats_describe(double *x, size_t n, lm_stats_desc *out, char *err);

/* A confidence interval. ok = 0: it cannot be given for this n at this
 * level (lo and hi are then NaN). For the median, j and k are the 1-based
 * ranks of the order statistics it spans and coverage their exact
 * binomial coverage (>= level); 0 for the mean's. */
typedef struct {
    int ok;
    double level, lo, hi;
    size_t j, k;
    double coverage;
} lm_stats_ci;

/* The CDF of Student's t distribution with df > 0 degrees of freedom at t
 * (NaN for df <= 0, an infinite df or a NaN argument). For df <= 10^4 it
 * is the regularized incomplete beta (its continued fraction), above that
 * the Cornish-Fisher expansion to df^-4 around the normal (erfc). Measured
 * against mpmath over df from 0.5 to 10^7: relative error of the smaller
 * tail below 6e-13 wherever that tail is 1e-15 or more (docs/stats.md). */
double lm_stats_t_cdf(double t, double df);

/* The quantile t(p, df): the t with lm_stats_t_cdf(t, df) = p, for
 * 0 < p < 1 and df > 0 (NaN otherwise): bisection on the tail (to a
 * bracket of relative width 1e-15) for df <= 10^4, the expansion of the
 * normal quantile above. Within 1e-13 relative of mpmath's values. */
double lm_stats_t_quantile(double p, double df);

/* The regularized incomplete beta function I_x(a, b), a, b > 0 finite,
 * 0 <= x <= 1 (NaN otherwise), by its continued fraction in x below
 * (a + 1) / (a + b + 2) and 1 - I_(1 - x)(b, a) above. Accurate to about
 * 1e-14 relative while neither x nor 1 - x is below 1 / (a + b). */
double lm_stats_betainc(double x, double a, double b);

/* The Student-t interval of the mean of x[0..n) at level (0 < level < 1).
 * ok = 0 when n < 2. LM_ERR for a bad level or a value that is not
 * finite. */
int lm_stats_ci_mean(const double *x, size_t n, double level, lm_stats_ci *out, char *err);

/* The ranks for the median's interval: the largest j (1 <= j <= n / 2)
 * with P(j <= B <= n - j) >= level for B ~ Bin(n, 1/2), k = n + 1 - j,
 * and that coverage. Returns 1 when there is one, 0 when no j reaches
 * level (n < 6 at 95%, n < 8 at 99%; j, k and coverage are then 0) or
 * level is not inside (0, 1). */
int lm_stats_median_ranks(size_t n, double level, size_t *j, size_t *k, double *coverage);

/* The non-parametric interval of the median of sorted[0..n) (sorted
 * ascending) at level: [sorted[j - 1], sorted[k - 1]] with the ranks
 * above; ok = 0 when n is too small for level. LM_ERR for a bad level. */
int lm_stats_ci_median(const double *sorted, size_t n, double level, lm_stats_ci *out, char *err);

/* What a bootstrap compares. */
typedef enum { LM_STATS_MEDIAN, LM_STATS_MEAN } lm_stats_center;

typedef struct {
    unsigned resamples; /* B (0: LM_STATS_BOOT_B) */
    uint64_t seed;      /* splitmix64 seed */
    double level;       /* 0: 0.95 */
    lm_stats_center center;
} lm_stats_boot_opts;

#define LM_STATS_BOOT_B 2000

/* A ratio of two samples' centers and its bootstrap interval. ratio is
 * center(a) / center(b) of the samples themselves; lo and hi are the
 * type-7 quantiles (1 - level) / 2 and 1 - (1 - level) / 2 of the B
 * resampled ratios, each from na values drawn from a and nb from b with
 * replacement (ok = 0 when na or nb is below 2: no interval). */
typedef struct {
    double ratio;
    lm_stats_ci ci;
    unsigned resamples;
    uint64_t seed;
} lm_stats_ratio;

/* The bootstrap of center(a) / center(b). opts may be NULL (medians,
 * B = LM_STATS_BOOT_B, seed 1, 95%). Allocates scratch space (freed before
 * it returns). LM_ERR when na or nb is 0, a value is not finite, a center
 * of b (the sample's or a resample's) is 0, the level is bad, or out of
 * memory. Deterministic: the same inputs and seed give the same result. */
int lm_stats_bootstrap_ratio(const double *a, size_t na, const double *b, size_t nb,
                             const lm_stats_boot_opts *opts, lm_stats_ratio *out, char *err);

/* splitmix64 (Steele, Lea & Flood 2014; Vigna's constants), the PRNG of
 * the bootstrap and of the tests: the host's one generator (util/rng.h),
 * the same seed giving the same stream on every machine. */
typedef lm_rng lm_stats_rng;
uint64_t lm_stats_rng_next(lm_stats_rng *r);
/* Uniform in [0, n), n > 0, without modulo bias (rejection). */
uint64_t lm_stats_rng_below(lm_stats_rng *r, uint64_t n);
/* Uniform in [0, 1) with 53 random bits. */
double lm_stats_rng_uniform(lm_stats_rng *r);

#endif
