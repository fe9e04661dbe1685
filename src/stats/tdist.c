/* tdist.c -- Student's t distribution (stats.h): its CDF through the
 * regularized incomplete beta function, and its quantile by bisection.
 *
 * The incomplete beta is the continued fraction of DLMF 8.17.22,
 *   I_x(a, b) = x^a (1 - x)^b / (a B(a, b)) * 1 / (1 + d1 / (1 + d2 / (1 + ...))),
 *   d(2m + 1) = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)),
 *   d(2m)     = m (b - m) x / ((a + 2m - 1)(a + 2m)),
 * evaluated by the modified Lentz method; it converges quickly for
 * x < (a + 1) / (a + b + 2), and I_x(a, b) = 1 - I_(1 - x)(b, a) covers the
 * rest. The t distribution's upper tail is P(T > t) = I_(df / (df + t^2))(df / 2,
 * 1 / 2) / 2 for t >= 0 (DLMF 8.17.3 with Abramowitz & Stegun 26.7.1). */
#include <float.h>
#include <math.h>

#include "stats/stats.h"

#define TINY 1e-300
#define MAX_TERMS 200000

/* The continued fraction's value (the part after the front factor). */
static double beta_cf(double x, double a, double b) {
    double f = TINY, c = f, d = 0;
    for (int j = 1; j <= MAX_TERMS; j++) {
        double num;
        if (j == 1) {
            num = 1;
        } else {
            int i = j - 1; /* d_i */
            double m = (double)(i / 2);
            num = (i % 2) ? -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
                          : m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
        }
        d = 1 + num * d;
        if (fabs(d) < TINY) d = TINY;
        c = 1 + num / c;
        if (fabs(c) < TINY) c = TINY;
        d = 1 / d;
        double delta = c * d;
        f *= delta;
        if (fabs(delta - 1) < 4 * DBL_EPSILON) break;
    }
    return f;
}

/* Stirling's correction: ln Gamma(x) - ((x - 1/2) ln x - x + ln(2 pi) / 2)
 * for x >= 20, to 1e-16 (the next term, 1 / (1188 x^9), is below it). */
static double stirling_delta(double x) {
    double r = 1 / (x * x);
    return (1.0 / 12 - r * (1.0 / 360 - r * (1.0 / 1260 - r / 1680))) / x;
}

/* ln B(a, b). lgamma(a) + lgamma(b) - lgamma(a + b) loses about
 * 1e-16 ln Gamma(a + b) to rounding when a or b is large (df / 2 of the t
 * distribution); with the large one at 20 or more, ln Gamma(big) -
 * ln Gamma(big + small) is taken from Stirling's series with its large
 * terms cancelled by hand, (big - 1/2) log1p(small / big) + small
 * ln(big + small) - small, so that only small numbers are rounded. */
static double lbeta(double a, double b) {
    double big = a > b ? a : b, small = a > b ? b : a;
    if (big < 20) return lgamma(a) + lgamma(b) - lgamma(a + b);
    double diff = (big - 0.5) * log1p(small / big) + small * log(big + small) - small +
                  stirling_delta(big + small) - stirling_delta(big);
    return lgamma(small) - diff;
}

/* The two ways to I_x(a, b), given both x and y = 1 - x, each computed
 * without the other's rounding (1 - x loses the digits of a y near 0):
 * the continued fraction in x, or 1 minus the one of I_y(b, a). */
static double front(double x, double y, double a, double b) {
    double lx = x < 0.5 ? log(x) : log1p(-y), ly = y < 0.5 ? log(y) : log1p(-x);
    return exp(a * lx + b * ly - lbeta(a, b));
}

static double inc_direct(double x, double y, double a, double b) {
    return x == 0 ? 0 : front(x, y, a, b) * beta_cf(x, a, b) / a;
}

static double inc_complement(double x, double y, double a, double b) {
    return y == 0 ? 1 : 1 - front(x, y, a, b) * beta_cf(y, b, a) / b;
}

double lm_stats_betainc(double x, double a, double b) {
    if (!(a > 0 && b > 0 && x >= 0 && x <= 1) || !isfinite(a) || !isfinite(b)) return NAN;
    /* The fraction converges quickly below (a + 1) / (a + b + 2). */
    return x < (a + 1) / (a + b + 2) ? inc_direct(x, 1 - x, a, b) : inc_complement(x, 1 - x, a, b);
}

/* P(T > t) for t >= 0, I_x(df / 2, 1 / 2) / 2 with x = df / (df + t^2),
 * y = t^2 / (df + t^2). The branch is chosen for precision as well as
 * speed: the fraction in x has a relative error of about 1e-16 / y (its
 * partial numerators are about -x, so each step cancels 1 - x), the
 * complement one of about 1e-16 / the tail (it subtracts from 1), and
 * the fraction in y is well conditioned only while (df / 2) y =
 * df t^2 / (2 (df + t^2)) is small (its first terms are about that over
 * 4m). docs/stats.md has the errors measured against mpmath. */
static double upper_tail_beta(double t, double df) {
    double s = df + t * t, x = df / s, y = t * t / s;
    if (y < 0.5 && df / 2 * y <= 8) {
        double q = 0.5 * inc_complement(x, y, df / 2, 0.5);
        if (q >= y) return q;
    }
    return 0.5 * inc_direct(x, y, df / 2, 0.5);
}

/* Above this df the continued fractions lose digits (1 - x is of order
 * 1 / df) and the Cornish-Fisher expansion has more than enough. */
#define ASYMPTOTIC_DF 1e4

/* The Cornish-Fisher expansion of t(p, df) in the normal quantile z of p,
 * to df^-4 (Abramowitz & Stegun 26.7.5); its next term is below 1e-17 of
 * t for df > 1e4 and tails down to 1e-9. *deriv gets dt/dz. */
static double cornish_fisher(double z, double df, double *deriv) {
    double z2 = z * z;
    /* g_k(z) = z * poly_k(z^2), and their derivatives. */
    double p1 = (z2 + 1) / 4;
    double p2 = ((5 * z2 + 16) * z2 + 3) / 96;
    double p3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) / 384;
    double p4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) / 92160;
    double d1 = (3 * z2 + 1) / 4;
    double d2 = ((25 * z2 + 48) * z2 + 3) / 96;
    double d3 = (((21 * z2 + 95) * z2 + 51) * z2 - 15) / 384;
    double d4 = ((((711 * z2 + 5432) * z2 + 7410) * z2 - 5760) * z2 - 945) / 92160;
    double u = 1 / df;
    if (deriv) *deriv = 1 + u * (d1 + u * (d2 + u * (d3 + u * d4)));
    return z * (1 + u * (p1 + u * (p2 + u * (p3 + u * p4))));
}

/* The normal upper tail P(Z > z), by libm's erfc. */
static double normal_upper(double z) { return 0.5 * erfc(z / M_SQRT2); }

/* P(T > t) for t >= 0 and df > ASYMPTOTIC_DF: the z whose expansion is t
 * (Newton from z = t; the expansion rises with z), then P(Z > z). */
static double upper_tail_asymptotic(double t, double df) {
    double z = t;
    for (int i = 0; i < 50; i++) {
        double d, step = (cornish_fisher(z, df, &d) - t) / d;
        z -= step;
        if (fabs(step) <= 1e-16 * fabs(z)) break;
    }
    return normal_upper(z);
}

/* P(T > t) for t >= 0. */
static double upper_tail(double t, double df) {
    return df > ASYMPTOTIC_DF ? upper_tail_asymptotic(t, df) : upper_tail_beta(t, df);
}

/* The t > 0 with tail(t) = q (0 < q < 1/2), by bisection on the tail
 * (which keeps its precision for q near 0). */
static double bisect_tail(double q, double df, double (*tail)(double, double)) {
    double lo = 0, hi = 1;
    while (tail(hi, df) > q) {
        lo = hi;
        hi *= 2;
        if (hi > 1e300) return INFINITY;
    }
    for (int i = 0; i < 2000 && hi - lo > 1e-15 * hi; i++) {
        double mid = lo + (hi - lo) / 2;
        if (tail(mid, df) > q)
            lo = mid;
        else
            hi = mid;
    }
    return lo + (hi - lo) / 2;
}

static double normal_tail_df(double z, double df) {
    (void)df;
    return normal_upper(z);
}

double lm_stats_t_cdf(double t, double df) {
    if (isnan(t) || !(df > 0) || !isfinite(df)) return NAN;
    if (isinf(t)) return t > 0 ? 1 : 0;
    return t >= 0 ? 1 - upper_tail(t, df) : upper_tail(-t, df);
}

double lm_stats_t_quantile(double p, double df) {
    if (!(p > 0 && p < 1) || !(df > 0) || !isfinite(df)) return NAN;
    if (p == 0.5) return 0;
    double q = p > 0.5 ? 1 - p : p, t;
    if (df > ASYMPTOTIC_DF)
        t = cornish_fisher(bisect_tail(q, df, normal_tail_df), df, NULL);
    else
        t = bisect_tail(q, df, upper_tail_beta);
    return p > 0.5 ? t : -t;
}
