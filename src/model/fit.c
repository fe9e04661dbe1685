/* fit.c -- one least-squares line (model.h): y = a + b x, or ln y = a +
 * b ln x, weighted by the inverse of each level's variance when x repeats
 * (Draper & Smith, Applied Regression Analysis, 3rd ed., ch. 9), with the
 * slope's Student-t interval, R^2, the residual standard error and, with
 * three or more levels, the lack-of-fit F test (ibid. sec. 2.1): the
 * residual sum of squares split into pure error (requests about their
 * level's mean) and lack of fit (the level means about the line). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/internal.h"
#include "stats/stats.h"

const char *lm_model_form_name(lm_model_form f) {
    return f == LM_MODEL_LINEAR ? "linear" : f == LM_MODEL_LOGLOG ? "log-log" : "auto";
}

typedef struct {
    double x, y;
} pt;

static int by_x(const void *a, const void *b) {
    double u = ((const pt *)a)->x, v = ((const pt *)b)->x;
    return u < v ? -1 : u > v;
}

static void no_fit(lm_model_line *out, const char *why) {
    out->ok = 0;
    snprintf(out->why, sizeof out->why, "%s", why);
}

/* Per level (a run of equal x in p[0..n)): its mean and sample variance
 * on the fit's scale. Returns the number of levels; *replicated is 1 when
 * every level has three or more points. */
static size_t level_stats(const pt *p, size_t n, double *mean, double *var, int *replicated) {
    size_t m = 0;
    *replicated = 1;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double s = 0, ss = 0;
        while (j < n && p[j].x == p[i].x)
            s += p[j++].y;
        double mu = s / (double)(j - i);
        for (size_t k = i; k < j; k++)
            ss += (p[k].y - mu) * (p[k].y - mu);
        mean[m] = mu;
        var[m] = j - i > 1 ? ss / (double)(j - i - 1) : 0;
        if (j - i < 3) *replicated = 0;
        m++;
        i = j;
    }
    return m;
}

int lm_model_line_fit(const double *x, const double *y, size_t n, lm_model_form form,
                      lm_model_line *out, char *err) {
    memset(out, 0, sizeof *out);
    out->form = form;
    out->n = n;
    out->xmin = out->xmax = out->xbar = out->sxx = out->wsum = NAN;
    out->intercept = out->slope = out->slope_se = out->slope_lo = out->slope_hi = NAN;
    out->r2 = out->rse = out->rmse = out->rrmse = NAN;
    out->lof_f = out->lof_p = out->lof_dev = NAN;
    if (lm_stats_check(x, n, err) != LM_OK || lm_stats_check(y, n, err) != LM_OK) return LM_ERR;
    if (n < 2) {
        no_fit(out, n ? "one request" : "no requests");
        return LM_OK;
    }
    pt *p = malloc(n * sizeof *p);
    double *mean = malloc(n * sizeof *mean), *var = malloc(n * sizeof *var),
           *w = malloc(n * sizeof *w);
    if (!p || !mean || !var || !w) {
        free(p), free(mean), free(var), free(w);
        return lm_errf(err, "out of memory");
    }
    int logs = form == LM_MODEL_LOGLOG;
    for (size_t i = 0; i < n; i++) {
        if (logs && (x[i] <= 0 || y[i] <= 0)) {
            no_fit(out, x[i] <= 0 ? "an x <= 0 (no log-log)" : "a value <= 0 (no log-log)");
            goto done;
        }
        p[i].x = logs ? log(x[i]) : x[i];
        p[i].y = logs ? log(y[i]) : y[i];
    }
    qsort(p, n, sizeof *p, by_x);
    int replicated;
    size_t levels = level_stats(p, n, mean, var, &replicated);
    out->levels = levels;
    out->xmin = p[0].x;
    out->xmax = p[n - 1].x;
    /* Weights: the inverse of each level's variance when every level has
     * three or more points and some spread (latency's spread grows with
     * its mean: unweighted, the largest level would set the line and the
     * smallest be predicted badly); a level without spread gets the
     * floor's. Otherwise every point weighs 1 (ordinary least squares). */
    double big = 0, vmax = 0;
    for (size_t l = 0; l < levels; l++) {
        big = fmax(big, fabs(mean[l]));
        vmax = fmax(vmax, var[l]);
    }
    out->weighted = levels >= 2 && replicated && vmax > 0;
    double floor_var = (1e-6 * big) * (1e-6 * big) + 1e-300;
    for (size_t i = 0, l = 0; i < n; i++) {
        if (i > 0 && p[i].x != p[i - 1].x) l++;
        w[i] = out->weighted ? 1 / fmax(var[l], floor_var) : 1;
    }
    /* Two passes: the weighted means, then the sums of squares about them. */
    double sw = 0, sx = 0, sy = 0;
    for (size_t i = 0; i < n; i++)
        sw += w[i], sx += w[i] * p[i].x, sy += w[i] * p[i].y;
    double xbar = sx / sw, ybar = sy / sw, sxx = 0, sxy = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        double dx = p[i].x - xbar, dy = p[i].y - ybar;
        sxx += w[i] * dx * dx, sxy += w[i] * dx * dy, syy += w[i] * dy * dy;
    }
    out->xbar = xbar;
    out->sxx = sxx;
    out->wsum = sw;
    if (levels < 2 || !(sxx > 0)) {
        no_fit(out, "one level of x");
        goto done;
    }
    double b = sxy / sxx, a = ybar - b * xbar, ssr = 0, sse_y = 0, sre = 0;
    int rel_ok = 1;
    for (size_t i = 0; i < n; i++) {
        double e = p[i].y - (a + b * p[i].x);
        ssr += w[i] * e * e;
        double fy = logs ? exp(a + b * p[i].x) : a + b * p[i].x;
        double yy = logs ? exp(p[i].y) : p[i].y;
        sse_y += (yy - fy) * (yy - fy);
        if (fy > 0)
            sre += (yy / fy - 1) * (yy / fy - 1);
        else
            rel_ok = 0;
    }
    out->ok = 1;
    out->intercept = a;
    out->slope = b;
    out->r2 = syy > 0 ? 1 - ssr / syy : NAN;
    out->rmse = sqrt(sse_y / (double)n);
    out->rrmse = rel_ok ? sqrt(sre / (double)n) : INFINITY;
    if (n > 2) {
        double df = (double)(n - 2);
        out->rse = sqrt(ssr / df);
        out->slope_se = out->rse / sqrt(sxx);
        double t = lm_stats_t_quantile(0.975, df);
        out->slope_lo = b - t * out->slope_se;
        out->slope_hi = b + t * out->slope_se;
    }
    /* Lack of fit: the level means against the line (weights are constant
     * within a level). */
    double ss_pe = 0, ss_lof = 0, dev = 0;
    for (size_t i = 0, l = 0; i < n; l++) {
        size_t j = i;
        while (j < n && p[j].x == p[i].x)
            j++;
        double fit = a + b * p[i].x;
        for (size_t k = i; k < j; k++)
            ss_pe += w[k] * (p[k].y - mean[l]) * (p[k].y - mean[l]);
        ss_lof += (double)(j - i) * w[i] * (mean[l] - fit) * (mean[l] - fit);
        /* The level mean's distance from the line, relative, on y's scale. */
        double my = logs ? exp(mean[l]) : mean[l], fy = logs ? exp(fit) : fit;
        if (fy > 0 && fabs(my - fy) / fy > dev) dev = fabs(my - fy) / fy;
        i = j;
    }
    if (levels >= 3) {
        out->lof_dev = dev;
        if (n > levels && ss_pe > 0) {
            double d1 = (double)(levels - 2), d2 = (double)(n - levels);
            double f = (ss_lof / d1) / (ss_pe / d2);
            out->lof_f = f;
            /* P(F > f) = I_(d2 / (d2 + d1 f))(d2 / 2, d1 / 2). */
            out->lof_p = lm_stats_betainc(d2 / (d2 + d1 * f), d2 / 2, d1 / 2);
        }
    }
done:
    free(p), free(mean), free(var), free(w);
    return LM_OK;
}

double lm_model_line_at(const lm_model_line *l, double x) {
    if (!l->ok) return NAN;
    if (l->form == LM_MODEL_LOGLOG) return x > 0 ? exp(l->intercept + l->slope * log(x)) : NAN;
    return l->intercept + l->slope * x;
}

void lm_model_line_mean_ci(const lm_model_line *l, double x, double *lo, double *hi) {
    *lo = *hi = NAN;
    if (!l->ok || l->n < 3 || !isfinite(l->rse)) return;
    int logs = l->form == LM_MODEL_LOGLOG;
    if (logs && x <= 0) return;
    double u = logs ? log(x) : x, fit = l->intercept + l->slope * u;
    double se = l->rse * sqrt(1 / l->wsum + (u - l->xbar) * (u - l->xbar) / l->sxx);
    double t = lm_stats_t_quantile(0.975, (double)(l->n - 2));
    *lo = logs ? exp(fit - t * se) : fit - t * se;
    *hi = logs ? exp(fit + t * se) : fit + t * se;
}
