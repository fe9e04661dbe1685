/* predict.c -- what the model says about an unmeasured size, runtime or
 * load, and how far to trust it (model.h): predictions along a fitted
 * series, a runtime scaled from a baseline by their measured ratio, and
 * the held-out validation of every series with three or more levels. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/internal.h"
#include "stats/stats.h"

/* ---- distributions ------------------------------------------------------ */

static int cmp_double(const void *a, const void *b) {
    double u = *(const double *)a, v = *(const double *)b;
    return u < v ? -1 : u > v;
}

void lm__model_describe(double *v, size_t n, lm_model_dist *out) {
    memset(out, 0, sizeof *out);
    out->median_ms = out->p90_ms = out->p99_ms = out->mean_ms = NAN;
    out->mean_lo_ms = out->mean_hi_ms = NAN;
    if (n == 0) return;
    qsort(v, n, sizeof *v, cmp_double);
    out->ok = 1;
    out->median_ms = lm_stats_quantile(v, n, 0.5);
    out->p90_ms = lm_stats_quantile(v, n, 0.9);
    out->p99_ms = lm_stats_quantile(v, n, 0.99);
    out->mean_ms = lm_stats_mean(v, n);
}

/* One value of a component at x, from its value y at level xl: scaled by
 * the fitted means' ratio (shifted by their difference when one is <= 0),
 * at least 0. */
static double moved(const lm_model_line *l, double x, double xl, double y) {
    double fit = lm_model_line_at(l, x), at = lm_model_line_at(l, xl);
    double v = fit > 0 && at > 0 ? fit * (y / at) : fit + (y - at);
    return v > 0 ? v : 0;
}

int lm__model_dist(const lm_model_line *l, double x, double xl, const double *ys, size_t ny,
                   lm_model_dist *out, char *err) {
    double *v = malloc((ny ? ny : 1) * sizeof *v);
    if (!v) return lm_errf(err, "out of memory");
    double fit = lm_model_line_at(l, x);
    for (size_t i = 0; i < ny; i++)
        v[i] = moved(l, x, xl, ys[i]);
    lm__model_describe(v, ny, out);
    free(v);
    out->mean_ms = fit;
    lm_model_line_mean_ci(l, x, &out->mean_lo_ms, &out->mean_hi_ms);
    out->ok = ny > 0 && isfinite(fit);
    return LM_OK;
}

size_t lm__model_nearest(const lm_model_series *s, double x, size_t skip) {
    size_t best = SIZE_MAX;
    double bd = INFINITY;
    for (size_t i = 0; i < s->nlevels; i++) {
        if (i == skip) continue;
        double l = s->levels[i];
        double d = x > 0 && l > 0 ? fabs(log(x) - log(l)) : fabs(x - l);
        if (d < bd) bd = d, best = i;
    }
    return best;
}

/* The values of component c of the requests of level li of s. */
static size_t level_values(const lm_model *m, const lm_model_series *s, size_t li, lm_model_comp c,
                           double *out) {
    size_t n = 0;
    for (size_t i = s->first[li]; i < s->first[li] + s->at[li]; i++) {
        double v = lm__model_value(&m->data->req[s->rows[i]], c, s->e2e_src, s->platform_src);
        if (isfinite(v)) out[n++] = v;
    }
    return n;
}

/* The predicted distribution of every component of s at x, from the fits
 * f[] (the series' own, or refitted without a held-out level) and the
 * requests of level near. e2e is composed: each request of that level
 * gives one predicted e2e, the sum of its parts each moved to x, and its
 * mean is the sum of the parts' fitted means; its interval is the direct
 * e2e fit's, centred there. Without a fit of every part, the direct e2e
 * fit is used as for any component. */
static int predict_at(const lm_model *m, const lm_model_series *s, const lm_model_fitc *f, double x,
                      size_t near, lm_model_dist *out, char *err) {
    size_t cnt = s->at[near];
    double *v = malloc((cnt ? cnt : 1) * sizeof *v), *e = malloc((cnt ? cnt : 1) * sizeof *e);
    if (!v || !e) {
        free(v), free(e);
        return lm_errf(err, "out of memory");
    }
    double xl = s->levels[near];
    int compose = lm__model_used(&f[LM_MODEL_E2E]) != NULL;
    for (int c = 0; c < LM_MODEL_NCOMP; c++) {
        memset(&out[c], 0, sizeof out[c]);
        const lm_model_line *l = lm__model_used(&f[c]);
        if (c != LM_MODEL_E2E && s->c[c].have &&
            lm__model_in_e2e((lm_model_comp)c, s->e2e_src, s->platform_src) && !l)
            compose = 0;
        if (!l) continue;
        size_t k = level_values(m, s, near, (lm_model_comp)c, v);
        if (lm__model_dist(l, x, xl, v, k, &out[c], err) != LM_OK) {
            free(v), free(e);
            return LM_ERR;
        }
    }
    if (compose) {
        size_t ne = 0;
        double mean = 0;
        for (int c = 0; c < LM_MODEL_E2E; c++)
            if (s->c[c].have && lm__model_in_e2e((lm_model_comp)c, s->e2e_src, s->platform_src))
                mean += lm_model_line_at(lm__model_used(&f[c]), x);
        for (size_t i = s->first[near]; i < s->first[near] + cnt; i++) {
            const lm__model_req *q = &m->data->req[s->rows[i]];
            double sum = 0;
            int ok = 1;
            for (int c = 0; c < LM_MODEL_E2E && ok; c++) {
                if (!s->c[c].have ||
                    !lm__model_in_e2e((lm_model_comp)c, s->e2e_src, s->platform_src))
                    continue;
                double y = lm__model_value(q, (lm_model_comp)c, s->e2e_src, s->platform_src);
                if (!isfinite(y))
                    ok = 0;
                else
                    sum += moved(lm__model_used(&f[c]), x, xl, y);
            }
            if (ok) e[ne++] = sum;
        }
        if (ne) {
            const lm_model_line *d = lm__model_used(&f[LM_MODEL_E2E]);
            double fit = lm_model_line_at(d, x), lo, hi;
            lm_model_line_mean_ci(d, x, &lo, &hi);
            lm__model_describe(e, ne, &out[LM_MODEL_E2E]);
            out[LM_MODEL_E2E].mean_ms = mean;
            out[LM_MODEL_E2E].mean_lo_ms = mean + (lo - fit);
            out[LM_MODEL_E2E].mean_hi_ms = mean + (hi - fit);
        }
    }
    free(v), free(e);
    return LM_OK;
}

/* ---- trust --------------------------------------------------------------- */

static void because(lm_model_prediction *p, const char *fmt, ...) LM_PRINTF(2, 3);

static void because(lm_model_prediction *p, const char *fmt, ...) {
    size_t k = strlen(p->why);
    if (k && k + 2 < sizeof p->why) {
        memcpy(p->why + k, "; ", 3);
        k += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->why + k, sizeof p->why - k, fmt, ap);
    va_end(ap);
}

static const char *const grades[] = {"none", "low", "medium", "high"};

static int at_most(int g, int cap) { return g < cap ? g : cap; }

void lm__model_grade(const lm_model_line *l, double x, lm_model_prediction *p) {
    int g = 3;
    int logs = l->form == LM_MODEL_LOGLOG;
    double lo = logs ? exp(l->xmin) : l->xmin, hi = logs ? exp(l->xmax) : l->xmax;
    p->distance = 1;
    p->why[0] = 0;
    if (p->measured) {
        snprintf(p->place, sizeof p->place, "measured");
        because(p, "measured: the fit at a level it was fitted on");
    } else if (x >= lo && x <= hi) {
        snprintf(p->place, sizeof p->place, "interpolation");
    } else {
        snprintf(p->place, sizeof p->place, "extrapolation");
        p->distance = x > hi ? x / hi : x > 0 ? lo / x : INFINITY;
        g = p->distance <= 2 ? at_most(g, 2) : 1;
        because(p, "%.3gx beyond the %s measured level", p->distance,
                x > hi ? "largest" : "smallest");
    }
    if (l->levels == 2) {
        g = at_most(g, 2);
        because(p, "two levels: the line is not checked by a third");
    }
    if (isfinite(l->lof_p) && l->lof_p < 0.05 && l->lof_dev > 0.10) {
        g = 1;
        because(p, "the line misses a level's mean by %.0f%% (lack of fit p = %.2g)",
                100 * l->lof_dev, l->lof_p);
    }
    double fit = lm_model_line_at(l, x), clo, chi;
    lm_model_line_mean_ci(l, x, &clo, &chi);
    if (!(fit > 0)) {
        g = 1;
        because(p, "the line is at or below 0 there");
    } else if (!isfinite(clo)) {
        g = 1;
        because(p, "no interval (fewer than 3 requests)");
    } else {
        double half = (chi - clo) / 2 / fit;
        if (half > 0.25) {
            g = half > 1 ? 1 : at_most(g, 2);
            because(p, "the mean's 95%% interval is +-%.0f%%", 100 * half);
        }
    }
    snprintf(p->trust, sizeof p->trust, "%s", grades[g]);
}

/* ---- predictions along a series ------------------------------------------ */

typedef struct {
    lm_model_prediction *v;
    size_t n, cap;
} plist;

static lm_model_prediction *grow(plist *l) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        lm_model_prediction *p = realloc(l->v, cap * sizeof *p);
        if (!p) return NULL;
        l->v = p;
        l->cap = cap;
    }
    lm_model_prediction *p = &l->v[l->n];
    memset(p, 0, sizeof *p);
    p->ratio = p->ratio_min = p->ratio_max = p->x = NAN;
    p->distance = NAN;
    return p;
}

/* The fixed part of s in words. */
static void where_of(const lm_model_series *s, char *out, size_t n) {
    if (s->axis != LM_MODEL_AXIS_SIZE)
        snprintf(out, n, "%s, %s loop, payload %s", s->start, s->load, s->payload);
    else if (!s->load)
        snprintf(out, n, "%s, outside cells", s->start);
    else if (s->concurrency != LM__MODEL_NONE)
        snprintf(out, n, "%s, %s loop of %lld", s->start, s->load, (long long)s->concurrency);
    else if (isfinite(s->rate_rps))
        snprintf(out, n, "%s, %s loop at %g rps", s->start, s->load, s->rate_rps);
    else
        snprintf(out, n, "%s, load %s", s->start, s->load);
}

static int near_level(const lm_model_series *s, double x, size_t *li) {
    for (size_t i = 0; i < s->nlevels; i++)
        if (fabs(x - s->levels[i]) <= 1e-9 * fmax(fabs(s->levels[i]), 1)) return *li = i, 1;
    return 0;
}

static int on_series(const lm_model *m, const lm_model_series *s, double x, const char *x_from,
                     plist *out, char *err) {
    lm_model_prediction *p = grow(out);
    if (!p) return lm_errf(err, "out of memory");
    snprintf(p->function, sizeof p->function, "%s", s->function);
    snprintf(p->runtime, sizeof p->runtime, "%s", s->runtime);
    p->method = s->axis == LM_MODEL_AXIS_SIZE          ? "size fit"
                : s->axis == LM_MODEL_AXIS_CONCURRENCY ? "concurrency fit"
                                                       : "rate fit";
    p->series = s;
    p->x = x;
    snprintf(p->x_from, sizeof p->x_from, "%s", x_from);
    where_of(s, p->where, sizeof p->where);
    size_t li = 0;
    p->measured = near_level(s, x, &li);
    double *v = malloc(s->nrows * sizeof *v);
    if (!v) return lm_errf(err, "out of memory");
    if (p->measured)
        for (int c = 0; c < LM_MODEL_NCOMP; c++) {
            size_t k = level_values(m, s, li, (lm_model_comp)c, v);
            lm__model_describe(v, k, &p->meas[c]);
        }
    free(v);
    if (predict_at(m, s, s->c, x, lm__model_nearest(s, x, SIZE_MAX), p->comp, err) != LM_OK)
        return LM_ERR;
    const lm_model_line *g = lm__model_used(&s->c[LM_MODEL_E2E]);
    for (int c = 0; !g && c < LM_MODEL_NCOMP; c++)
        g = lm__model_used(&s->c[c]);
    if (g) lm__model_grade(g, x, p);
    out->n++;
    return LM_OK;
}

/* ---- a runtime scaled from a baseline ------------------------------------ */

static int same_load(const lm__model_block *a, const lm__model_block *b) {
    return lm__model_same(a->load, b->load) && a->concurrency == b->concurrency &&
           (a->rate_rps == b->rate_rps || (isnan(a->rate_rps) && isnan(b->rate_rps)));
}

static const lm__model_block *find_block(const struct lm__model_data *d, const char *function,
                                         const char *runtime, const char *start,
                                         const char *payload, const lm__model_block *load) {
    for (size_t i = 0; i < d->nblocks; i++) {
        const lm__model_block *b = &d->blocks[i];
        if (lm__model_same(b->function, function) && lm__model_same(b->runtime, runtime) &&
            strcmp(b->start, start) == 0 && lm__model_same(b->payload, payload) &&
            same_load(b, load))
            return b;
    }
    return NULL;
}

/* The e2e and platform sources of a set of blocks, as a series chooses. */
static void block_sources(const struct lm__model_data *d, const lm__model_block *const *b,
                          size_t nb, int *e2e, int *plat) {
    size_t have[LM__NSRC] = {0}, n = 0;
    for (size_t k = 0; k < nb; k++) {
        for (size_t i = 0; i < b[k]->n; i++)
            for (int s = 0; s < LM__NSRC; s++)
                have[s] += isfinite(d->req[b[k]->rows[i]].span[s]);
        n += b[k]->n;
    }
    *e2e = -1;
    for (int s = 0; s < LM__NSRC && *e2e < 0; s++)
        if (have[s] == n) *e2e = s;
    for (int s = 0; s < LM__NSRC && *e2e < 0; s++)
        if (have[s]) *e2e = s;
    if (*e2e < 0) *e2e = LM__SRC_INSTANCE;
    *plat = have[LM__SRC_GATEWAY] == n    ? LM__SRC_GATEWAY
            : have[LM__SRC_INSTANCE] == n ? LM__SRC_INSTANCE
                                          : LM__SRC_GATEWAY;
}

static size_t block_values(const struct lm__model_data *d, const lm__model_block *b,
                           lm_model_comp c, int e2e, int plat, double *out) {
    size_t n = 0;
    for (size_t i = 0; i < b->n; i++) {
        double v = lm__model_value(&d->req[b->rows[i]], c, e2e, plat);
        if (isfinite(v)) out[n++] = v;
    }
    return n;
}

static double block_median(const struct lm__model_data *d, const lm__model_block *b,
                           lm_model_comp c, int e2e, int plat, double *scratch) {
    size_t n = block_values(d, b, c, e2e, plat, scratch);
    if (!n) return NAN;
    qsort(scratch, n, sizeof *scratch, cmp_double);
    return lm_stats_quantile(scratch, n, 0.5);
}

/* The runtime the ratios are to: --baseline, else native, else the one
 * with the most blocks of function (not runtime itself); NULL: none. */
static const char *baseline_of(const lm_model *m, const char *function, const char *runtime) {
    const struct lm__model_data *d = m->data;
    if (m->baseline) return m->baseline;
    const char *best = NULL;
    size_t most = 0;
    for (size_t i = 0; i < d->nblocks; i++) {
        const lm__model_block *b = &d->blocks[i];
        if (!lm__model_same(b->function, function) || lm__model_same(b->runtime, runtime)) continue;
        if (strcmp(b->runtime, "native") == 0) return "native";
        size_t k = 0;
        for (size_t j = 0; j < d->nblocks; j++)
            k += lm__model_same(d->blocks[j].function, function) &&
                 lm__model_same(d->blocks[j].runtime, b->runtime);
        if (k > most) most = k, best = b->runtime;
    }
    return best;
}

static int on_ratio(const lm_model *m, const lm_model_target *t, const lm__model_block *b0,
                    plist *out, char *err) {
    const struct lm__model_data *d = m->data;
    /* The payloads both runtimes ran at this start and load. */
    size_t cap = d->nblocks + 1, k = 0, big = 0;
    const lm__model_block **rt = malloc(cap * sizeof *rt), **bl = malloc(cap * sizeof *bl),
                          **all = malloc((2 * cap + 1) * sizeof *all);
    if (!rt || !bl || !all) {
        free(rt), free(bl), free(all);
        return lm_errf(err, "out of memory");
    }
    for (size_t i = 0; i < d->nblocks; i++) {
        const lm__model_block *b = &d->blocks[i];
        if (!lm__model_same(b->function, t->function) || !lm__model_same(b->runtime, t->runtime) ||
            strcmp(b->start, b0->start) != 0 || !same_load(b, b0) || !b->payload ||
            lm__model_same(b->payload, b0->payload))
            continue;
        const lm__model_block *twin =
            find_block(d, b0->function, b0->runtime, b0->start, b->payload, b0);
        if (!twin) continue;
        rt[k] = b, bl[k] = twin;
        all[2 * k] = b, all[2 * k + 1] = twin;
        big = big > b->n ? big : b->n;
        big = big > twin->n ? big : twin->n;
        k++;
    }
    all[2 * k] = b0;
    big = big > b0->n ? big : b0->n;
    const lm__model_block *target =
        find_block(d, t->function, t->runtime, b0->start, b0->payload, b0);
    if (target) big = big > target->n ? big : target->n, all[2 * k + 1] = target;
    int rc = LM_OK;
    if (k == 0) goto done;
    double *v = malloc((big ? big : 1) * sizeof *v), *lr = malloc(k * sizeof *lr);
    lm_model_prediction *p = v && lr ? grow(out) : NULL;
    if (!p) {
        free(v), free(lr);
        rc = lm_errf(err, "out of memory");
        goto done;
    }
    int e2e, plat;
    block_sources(d, all, 2 * k + 1 + (target != NULL), &e2e, &plat);
    snprintf(p->function, sizeof p->function, "%s", t->function);
    snprintf(p->runtime, sizeof p->runtime, "%s", t->runtime);
    p->method = "runtime ratio";
    p->baseline = b0->runtime;
    snprintf(p->where, sizeof p->where, "%s, payload %s, load %s", b0->start, b0->payload,
             b0->load ? b0->load : "-");
    if (b0->concurrency != LM__MODEL_NONE) {
        size_t w = strlen(p->where);
        snprintf(p->where + w, sizeof p->where - w, " %lld", (long long)b0->concurrency);
    } else if (isfinite(b0->rate_rps)) {
        size_t w = strlen(p->where);
        snprintf(p->where + w, sizeof p->where - w, " %g rps", b0->rate_rps);
    }
    p->measured = target != NULL;
    for (int c = 0; c < LM_MODEL_NCOMP; c++) {
        size_t kc = 0;
        for (size_t i = 0; i < k; i++) {
            double a = block_median(d, rt[i], (lm_model_comp)c, e2e, plat, v),
                   b = block_median(d, bl[i], (lm_model_comp)c, e2e, plat, v);
            if (a > 0 && b > 0) lr[kc++] = log(a / b);
        }
        if (target) {
            size_t n = block_values(d, target, (lm_model_comp)c, e2e, plat, v);
            lm__model_describe(v, n, &p->meas[c]);
        }
        if (kc == 0) continue;
        double mean = lm_stats_mean(lr, kc), g = exp(mean);
        size_t n = block_values(d, b0, (lm_model_comp)c, e2e, plat, v);
        if (n == 0) continue;
        for (size_t i = 0; i < n; i++)
            v[i] *= g;
        lm__model_describe(v, n, &p->comp[c]);
        if (kc >= 2) {
            /* A new payload's ratio: the t prediction interval of ln ratio. */
            double sd = lm_stats_sd(lr, kc), tq = lm_stats_t_quantile(0.975, (double)(kc - 1));
            double w = tq * sd * sqrt(1 + 1 / (double)kc);
            p->comp[c].mean_lo_ms = p->comp[c].mean_ms * exp(-w);
            p->comp[c].mean_hi_ms = p->comp[c].mean_ms * exp(w);
        }
        if (c == LM_MODEL_E2E) {
            p->shared = kc;
            p->ratio = g;
            p->ratio_min = exp(lr[0]);
            p->ratio_max = exp(lr[0]);
            for (size_t i = 1; i < kc; i++) {
                p->ratio_min = fmin(p->ratio_min, exp(lr[i]));
                p->ratio_max = fmax(p->ratio_max, exp(lr[i]));
            }
        }
    }
    free(v), free(lr);
    snprintf(p->place, sizeof p->place, "%s", p->measured ? "measured" : "unmeasured runtime");
    p->why[0] = 0;
    double spread = p->ratio_max / p->ratio_min;
    int g = 0;
    if (p->shared == 0) {
        because(p, "no e2e ratio (no shared payload with values)");
    } else if (p->shared == 1) {
        g = 1;
        because(p, "one shared payload: the ratio is not checked by a second");
    } else {
        g = p->shared >= 3 && spread <= 1.2 ? 3 : spread <= 1.5 ? 2 : 1;
        because(p, "the e2e ratio over %zu payloads spans %.3gx", p->shared, spread);
    }
    if (p->measured) because(p, "measured: compare with the measurement");
    snprintf(p->trust, sizeof p->trust, "%s", grades[g]);
    out->n++;
done:
    free(rt), free(bl), free(all);
    return rc;
}

/* ---- the entry point -------------------------------------------------------- */

static int matches_start(const lm_model_target *t, const char *start) {
    return !t->start[0] || strcmp(t->start, start) == 0;
}

int lm_model_predict(const lm_model *m, const lm_model_target *t, lm_model_prediction **out,
                     size_t *n, char *err) {
    plist l = {0};
    char note[512] = "";
    *out = NULL;
    *n = 0;
    int has_fr = 0;
    for (size_t i = 0; i < m->data->nblocks; i++)
        has_fr |= lm__model_same(m->data->blocks[i].function, t->function) &&
                  lm__model_same(m->data->blocks[i].runtime, t->runtime);
    int has_f = 0;
    for (size_t i = 0; i < m->data->nblocks; i++)
        has_f |= lm__model_same(m->data->blocks[i].function, t->function);
    if (!has_f) return lm_errf(err, "%s has no answered request of %s", m->db, t->function);
    for (size_t i = 0; i < m->nseries; i++) {
        const lm_model_series *s = &m->series[i];
        if (strcmp(s->function, t->function) != 0 || strcmp(s->runtime, t->runtime) != 0 ||
            !matches_start(t, s->start))
            continue;
        double x = NAN;
        char from[512] = "";
        if (s->axis == LM_MODEL_AXIS_SIZE) {
            if (isnan(t->size) && !t->payload[0]) continue;
            if ((t->load[0] && !lm__model_same(s->load, t->load)) ||
                (t->concurrency != LM__MODEL_NONE && s->concurrency != t->concurrency) ||
                (!isnan(t->rate_rps) && s->rate_rps != t->rate_rps))
                continue;
            if (!isnan(t->size)) {
                x = t->size;
                snprintf(from, sizeof from, "size=%g %s", x, s->x_unit);
            } else {
                const char *unit = NULL;
                double nominal = m->size ? m->size(t->function, t->payload, &unit) : NAN;
                if (!isfinite(nominal)) {
                    snprintf(note, sizeof note, "payload %.100s has no known size for %.100s",
                             t->payload, t->function);
                    continue;
                }
                if (s->x_is_io && isfinite(s->io_per_nominal)) {
                    x = nominal * s->io_per_nominal;
                    snprintf(
                        from, sizeof from,
                        "payload %.100s: %.0f %s x %.4g I/O bytes per unit (measured) = %.0f bytes",
                        t->payload, nominal, unit, s->io_per_nominal, x);
                } else if (!s->x_is_io && unit && strcmp(unit, s->x_unit) == 0) {
                    x = nominal;
                    snprintf(from, sizeof from, "payload %.100s: %s = %g", t->payload, unit, x);
                } else {
                    snprintf(note, sizeof note,
                             "payload %.100s: its size for %.100s is not in the series' unit (%s)",
                             t->payload, t->function, s->x_unit);
                    continue;
                }
            }
        } else if (s->axis == LM_MODEL_AXIS_CONCURRENCY) {
            if (t->concurrency == LM__MODEL_NONE || !isnan(t->size) ||
                (t->payload[0] && !lm__model_same(s->payload, t->payload)) ||
                (t->load[0] && strcmp(t->load, "closed") != 0))
                continue;
            x = (double)t->concurrency;
            snprintf(from, sizeof from, "concurrency=%lld clients", (long long)t->concurrency);
        } else {
            if (isnan(t->rate_rps) || !isnan(t->size) ||
                (t->payload[0] && !lm__model_same(s->payload, t->payload)) ||
                (t->load[0] && strcmp(t->load, "open") != 0))
                continue;
            x = t->rate_rps;
            snprintf(from, sizeof from, "rate=%g rps", x);
        }
        if (on_series(m, s, x, from, &l, err) != LM_OK) goto fail;
    }
    /* A runtime at a payload: scaled from the baseline measured there. */
    const char *base = t->payload[0] ? baseline_of(m, t->function, t->runtime) : NULL;
    if (base && strcmp(base, t->runtime) != 0) {
        for (size_t i = 0; i < m->data->nblocks; i++) {
            const lm__model_block *b = &m->data->blocks[i];
            if (!lm__model_same(b->function, t->function) || strcmp(b->runtime, base) != 0 ||
                !lm__model_same(b->payload, t->payload) || !matches_start(t, b->start))
                continue;
            if ((t->load[0] && !lm__model_same(b->load, t->load)) ||
                (t->concurrency != LM__MODEL_NONE && b->concurrency != t->concurrency) ||
                (!isnan(t->rate_rps) && b->rate_rps != t->rate_rps))
                continue;
            if (on_ratio(m, t, b, &l, err) != LM_OK) goto fail;
        }
    }
    if (l.n == 0) {
        free(l.v);
        if (!has_fr)
            return lm_errf(err,
                           "%s has no answered request of %s@%s%s%s: a runtime is predicted "
                           "from its ratio to %s on other payloads, so it must have run some",
                           m->db, t->function, t->runtime, note[0] ? "; " : "", note,
                           base ? base : "a baseline");
        return lm_errf(err,
                       "nothing to predict for %s@%s here%s%s: give a size= or payload= (the "
                       "size axis), concurrency= or rate= (the load axes) that a series of it "
                       "with two or more levels has (lumos model %s --function %s lists them)",
                       t->function, t->runtime, note[0] ? ": " : "", note, m->db, t->function);
    }
    *out = l.v;
    *n = l.n;
    return LM_OK;
fail:
    free(l.v);
    return LM_ERR;
}

/* ---- validation ------------------------------------------------------------ */

static int holdout_matches(const lm_model *m, const lm_model_series *s, size_t h,
                           const lm_model_target *t) {
    if (!t) return 1;
    double x = s->levels[h];
    if (t->payload[0]) {
        if (s->axis != LM_MODEL_AXIS_SIZE) return 0;
        const lm__model_block *b = &m->data->blocks[m->data->req[s->rows[s->first[h]]].block];
        return lm__model_same(b->payload, t->payload);
    }
    if (!isnan(t->size))
        return s->axis == LM_MODEL_AXIS_SIZE && fabs(x - t->size) <= 1e-9 * fmax(x, 1);
    if (t->concurrency != LM__MODEL_NONE)
        return s->axis == LM_MODEL_AXIS_CONCURRENCY && x == (double)t->concurrency;
    if (!isnan(t->rate_rps)) return s->axis == LM_MODEL_AXIS_RATE && x == t->rate_rps;
    return 1;
}

static double rel(double pred, double meas) { return meas != 0 ? pred / meas - 1 : NAN; }

static int check_level(const lm_model *m, const lm_model_series *s, size_t h,
                       lm_model_validation *v, char *err) {
    size_t n = s->nrows;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *w = malloc(n * sizeof *w);
    lm_model_fitc f[LM_MODEL_NCOMP];
    lm_model_dist pred[LM_MODEL_NCOMP];
    memset(f, 0, sizeof f);
    int rc = x && y && w ? LM_OK : lm_errf(err, "out of memory");
    /* Every component refitted without the held-out level. */
    for (int c = 0; c < LM_MODEL_NCOMP && rc == LM_OK; c++) {
        if (!s->c[c].ok) continue;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (i >= s->first[h] && i < s->first[h] + s->at[h]) continue;
            double val = lm__model_value(&m->data->req[s->rows[i]], (lm_model_comp)c, s->e2e_src,
                                         s->platform_src);
            if (isfinite(val)) x[k] = s->x[i], y[k++] = val;
        }
        rc = lm__model_fit_comp(x, y, k, m->form, lm__model_axis_floor(s->axis), &f[c], err);
    }
    size_t near = lm__model_nearest(s, s->levels[h], h);
    if (rc == LM_OK) rc = predict_at(m, s, f, s->levels[h], near, pred, err);
    for (int c = 0; c < LM_MODEL_NCOMP && rc == LM_OK; c++) {
        const lm_model_line *l = lm__model_used(&f[c]);
        if (!l || !pred[c].ok) continue;
        lm_model_dist meas;
        size_t nm = level_values(m, s, h, (lm_model_comp)c, w);
        lm__model_describe(w, nm, &meas);
        if (!meas.ok) continue;
        lm_model_check *p = realloc(v->rows, (v->n + 1) * sizeof *p);
        if (!p) {
            rc = lm_errf(err, "out of memory");
            break;
        }
        v->rows = p;
        p = &v->rows[v->n++];
        memset(p, 0, sizeof *p);
        p->series = s;
        p->x = s->levels[h];
        p->exterior = h == 0 || h == s->nlevels - 1;
        p->comp = (lm_model_comp)c;
        p->form = f[c].used;
        p->pred_median_ms = pred[c].median_ms;
        p->pred_p90_ms = pred[c].p90_ms;
        p->meas_median_ms = meas.median_ms;
        p->meas_p90_ms = meas.p90_ms;
        p->median_rel_err = rel(pred[c].median_ms, meas.median_ms);
        p->p90_rel_err = rel(pred[c].p90_ms, meas.p90_ms);
        lm_model_prediction g;
        memset(&g, 0, sizeof g);
        lm__model_grade(lm__model_used(&f[LM_MODEL_E2E]) ? lm__model_used(&f[LM_MODEL_E2E]) : l,
                        s->levels[h], &g);
        snprintf(p->trust, sizeof p->trust, "%s", g.trust);
    }
    free(x), free(y), free(w);
    return rc;
}

int lm_model_validate(const lm_model *m, const lm_model_target *holdout, lm_model_validation *v,
                      char *err) {
    memset(v, 0, sizeof *v);
    size_t matched = 0;
    for (size_t i = 0; i < m->nseries; i++) {
        const lm_model_series *s = &m->series[i];
        if (s->nlevels < 3) continue;
        v->series++;
        for (size_t h = 0; h < s->nlevels; h++) {
            if (!holdout_matches(m, s, h, holdout)) continue;
            matched++;
            if (check_level(m, s, h, v, err) != LM_OK) {
                lm_model_validation_free(v);
                return LM_ERR;
            }
        }
    }
    if (holdout && matched == 0) {
        lm_model_validation_free(v);
        return lm_errf(err,
                       "no series with three or more levels has the level to hold out (%zu "
                       "series have three or more)",
                       v->series);
    }
    return LM_OK;
}

void lm_model_validation_free(lm_model_validation *v) {
    if (!v) return;
    free(v->rows);
    v->rows = NULL;
    v->n = 0;
}
