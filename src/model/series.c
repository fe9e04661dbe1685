/* series.c -- the model's series (model.h): blocks that differ along one
 * axis only (the payload's size at one load, or the load at one payload),
 * the x of each request, and every component fitted in both forms. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/internal.h"
#include "stats/stats.h"

const char *lm_model_axis_name(lm_model_axis a) {
    return a == LM_MODEL_AXIS_SIZE          ? "size"
           : a == LM_MODEL_AXIS_CONCURRENCY ? "concurrency"
                                            : "rate";
}

double lm__model_axis_floor(lm_model_axis a) { return a == LM_MODEL_AXIS_CONCURRENCY ? 1 : 0; }

const lm_model_line *lm__model_used(const lm_model_fitc *f) {
    if (!f->ok) return NULL;
    return f->used == LM_MODEL_LOGLOG ? &f->log : &f->lin;
}

int lm__model_fit_comp(const double *x, const double *y, size_t n, lm_model_form form,
                       double floor_x, lm_model_fitc *f, char *err) {
    if (lm_model_line_fit(x, y, n, LM_MODEL_LINEAR, &f->lin, err) != LM_OK ||
        lm_model_line_fit(x, y, n, LM_MODEL_LOGLOG, &f->log, err) != LM_OK)
        return LM_ERR;
    f->n = n;
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += y[i];
    f->mean = n ? s / (double)n : NAN;
    f->ok = f->lin.ok || f->log.ok;
    if (!f->ok) return LM_OK;
    if (form == LM_MODEL_LINEAR || !f->log.ok)
        f->used = f->lin.ok ? LM_MODEL_LINEAR : LM_MODEL_LOGLOG;
    else if (form == LM_MODEL_LOGLOG || !f->lin.ok)
        f->used = LM_MODEL_LOGLOG;
    else /* AUTO: linear, unless it is below 0 where the axis begins (a
          * negative fixed cost: the cost bends) or the level means reject
          * it and log-log less */
        f->used = lm_model_line_at(&f->lin, floor_x) < 0 ||
                          (f->lin.lof_p < 0.05 && f->log.lof_p > f->lin.lof_p)
                      ? LM_MODEL_LOGLOG
                      : LM_MODEL_LINEAR;
    return LM_OK;
}

/* One series being gathered: the blocks it is made of. */
typedef struct {
    lm_model_axis axis;
    size_t *blocks;
    size_t n;
} draft;

static int same_rate(double a, double b) { return a == b || (isnan(a) && isnan(b)); }

/* 1 when blocks a and b belong to the same series of axis. */
static int together(lm_model_axis axis, const lm__model_block *a, const lm__model_block *b) {
    if (!lm__model_same(a->function, b->function) || !lm__model_same(a->runtime, b->runtime) ||
        strcmp(a->start, b->start) != 0)
        return 0;
    if (axis == LM_MODEL_AXIS_SIZE)
        return lm__model_same(a->load, b->load) && a->concurrency == b->concurrency &&
               same_rate(a->rate_rps, b->rate_rps);
    return lm__model_same(a->payload, b->payload) && lm__model_same(a->load, b->load);
}

/* The axis a block can be on besides size, or -1. */
static int load_axis(const lm__model_block *b) {
    if (!b->payload || !b->load) return -1;
    if (strcmp(b->load, "closed") == 0 && b->concurrency != LM__MODEL_NONE)
        return LM_MODEL_AXIS_CONCURRENCY;
    if (strcmp(b->load, "open") == 0 && isfinite(b->rate_rps)) return LM_MODEL_AXIS_RATE;
    return -1;
}

static int drafts_of(const struct lm__model_data *d, draft **out, size_t *nout) {
    draft *v = NULL;
    size_t n = 0;
    for (size_t i = 0; i < d->nblocks; i++) {
        const lm__model_block *b = &d->blocks[i];
        for (int axis = LM_MODEL_AXIS_SIZE; axis <= LM_MODEL_AXIS_RATE; axis++) {
            if (axis != LM_MODEL_AXIS_SIZE && load_axis(b) != axis) continue;
            size_t k = 0;
            while (k < n && !(v[k].axis == (lm_model_axis)axis &&
                              together((lm_model_axis)axis, &d->blocks[v[k].blocks[0]], b)))
                k++;
            if (k == n) {
                draft *p = realloc(v, (n + 1) * sizeof *p);
                if (!p) goto oom;
                v = p;
                v[n++] = (draft){(lm_model_axis)axis, NULL, 0};
            }
            size_t *p = realloc(v[k].blocks, (v[k].n + 1) * sizeof *p);
            if (!p) goto oom;
            v[k].blocks = p;
            v[k].blocks[v[k].n++] = i;
        }
    }
    *out = v;
    *nout = n;
    return LM_OK;
oom:
    for (size_t k = 0; k < n; k++)
        free(v[k].blocks);
    free(v);
    return LM_ERR;
}

typedef struct {
    double x;
    size_t row;
} xrow;

static int by_x(const void *a, const void *b) {
    const xrow *u = a, *v = b;
    if (u->x != v->x) return u->x < v->x ? -1 : 1;
    return u->row < v->row ? -1 : u->row > v->row;
}

static int cmp_double(const void *a, const void *b) {
    double u = *(const double *)a, v = *(const double *)b;
    return u < v ? -1 : u > v;
}

/* Decides the series' x and fills its rows, x and levels. Returns 1 when
 * it has two or more levels, 0 when it is to be dropped (*why: 's' one
 * level, 'n' no size), -1 out of memory. */
static int place(const struct lm__model_data *d, const draft *dr, lm_model_series *s, char *why) {
    size_t n = 0;
    for (size_t k = 0; k < dr->n; k++)
        n += d->blocks[dr->blocks[k]].n;
    xrow *xr = malloc((n ? n : 1) * sizeof *xr);
    if (!xr) return -1;
    int all_io = 1, all_nominal = 1;
    const char *unit = NULL;
    for (size_t k = 0; k < dr->n; k++) {
        const lm__model_block *b = &d->blocks[dr->blocks[k]];
        if (!isfinite(b->nominal) || (unit && b->nominal_unit && strcmp(unit, b->nominal_unit)))
            all_nominal = 0;
        if (b->nominal_unit) unit = b->nominal_unit;
        for (size_t i = 0; i < b->n; i++)
            if (!(d->req[b->rows[i]].io_bytes > 0)) all_io = 0;
    }
    /* Size: I/O bytes if they differ between levels, else the nominal. */
    int use_io = 0;
    if (dr->axis == LM_MODEL_AXIS_SIZE && all_io) {
        double first = NAN;
        use_io = !all_nominal;
        for (size_t k = 0; k < dr->n && !use_io; k++) {
            const lm__model_block *b = &d->blocks[dr->blocks[k]];
            for (size_t i = 0; i < b->n && !use_io; i++) {
                double x = d->req[b->rows[i]].io_bytes;
                if (isnan(first)) first = x;
                use_io = x != first;
            }
        }
    }
    if (dr->axis == LM_MODEL_AXIS_SIZE && !use_io && !all_nominal) {
        free(xr);
        *why = 'n';
        return 0;
    }
    n = 0;
    for (size_t k = 0; k < dr->n; k++) {
        const lm__model_block *b = &d->blocks[dr->blocks[k]];
        for (size_t i = 0; i < b->n; i++) {
            double x = dr->axis == LM_MODEL_AXIS_CONCURRENCY ? (double)b->concurrency
                       : dr->axis == LM_MODEL_AXIS_RATE      ? b->rate_rps
                       : use_io                              ? d->req[b->rows[i]].io_bytes
                                                             : b->nominal;
            xr[n++] = (xrow){x, b->rows[i]};
        }
    }
    qsort(xr, n, sizeof *xr, by_x);
    size_t levels = 0;
    for (size_t i = 0; i < n; i++)
        levels += i == 0 || xr[i].x != xr[i - 1].x;
    if (levels < 2) {
        free(xr);
        *why = 's';
        return 0;
    }
    s->rows = malloc(n * sizeof *s->rows);
    s->x = malloc(n * sizeof *s->x);
    s->levels = malloc(levels * sizeof *s->levels);
    s->at = malloc(levels * sizeof *s->at);
    s->first = malloc(levels * sizeof *s->first);
    if (!s->rows || !s->x || !s->levels || !s->at || !s->first) {
        free(xr);
        return -1;
    }
    s->nrows = n;
    s->nlevels = 0;
    for (size_t i = 0; i < n; i++) {
        s->rows[i] = xr[i].row;
        s->x[i] = xr[i].x;
        if (i == 0 || xr[i].x != xr[i - 1].x) {
            s->levels[s->nlevels] = xr[i].x;
            s->first[s->nlevels] = i;
            s->at[s->nlevels++] = 0;
        }
        s->at[s->nlevels - 1]++;
    }
    s->x_is_io = use_io;
    if (dr->axis == LM_MODEL_AXIS_CONCURRENCY)
        s->x_name = "concurrency", s->x_unit = "clients";
    else if (dr->axis == LM_MODEL_AXIS_RATE)
        s->x_name = "rate", s->x_unit = "rps";
    else if (use_io)
        s->x_name = "io_bytes", s->x_unit = "bytes";
    else
        s->x_name = unit ? unit : "size", s->x_unit = unit ? unit : "size";
    /* How many I/O bytes a unit of the nominal size moves (predicting a
     * payload group from its nominal size). */
    s->io_per_nominal = NAN;
    if (use_io && all_nominal) {
        double *r = malloc(n * sizeof *r);
        if (!r) {
            free(xr);
            return -1;
        }
        size_t m = 0;
        for (size_t k = 0; k < dr->n; k++) {
            const lm__model_block *b = &d->blocks[dr->blocks[k]];
            for (size_t i = 0; i < b->n; i++)
                r[m++] = d->req[b->rows[i]].io_bytes / b->nominal;
        }
        qsort(r, m, sizeof *r, cmp_double);
        s->io_per_nominal = lm_stats_quantile(r, m, 0.5);
        free(r);
    }
    free(xr);
    return 1;
}

/* The e2e source: the first one every request has, else the first any
 * has; the platform's: gateway when every request has it, else instance
 * when every one has that, else gateway. */
static void sources(const struct lm__model_data *d, lm_model_series *s, int *e2e, int *plat) {
    size_t have[LM__NSRC] = {0};
    for (size_t i = 0; i < s->nrows; i++)
        for (int k = 0; k < LM__NSRC; k++)
            have[k] += isfinite(d->req[s->rows[i]].span[k]);
    *e2e = -1;
    for (int k = 0; k < LM__NSRC && *e2e < 0; k++)
        if (have[k] == s->nrows) *e2e = k;
    for (int k = 0; k < LM__NSRC && *e2e < 0; k++)
        if (have[k]) *e2e = k;
    if (*e2e < 0) *e2e = LM__SRC_INSTANCE;
    *plat = have[LM__SRC_GATEWAY] == s->nrows    ? LM__SRC_GATEWAY
            : have[LM__SRC_INSTANCE] == s->nrows ? LM__SRC_INSTANCE
                                                 : LM__SRC_GATEWAY;
}

int lm__model_series_fit(const lm_model *m, lm_model_series *s, char *err) {
    const struct lm__model_data *d = m->data;
    int e2e, plat;
    sources(d, s, &e2e, &plat);
    s->e2e_src = e2e;
    s->platform_src = plat;
    s->e2e_source = lm__model_src_names[e2e];
    s->platform_source = lm__model_src_names[plat];
    double *x = malloc(s->nrows * sizeof *x), *y = malloc(s->nrows * sizeof *y);
    if (!x || !y) {
        free(x), free(y);
        return lm_errf(err, "out of memory");
    }
    int rc = LM_OK;
    for (int c = 0; c < LM_MODEL_NCOMP && rc == LM_OK; c++) {
        size_t n = 0;
        for (size_t i = 0; i < s->nrows; i++) {
            double v = lm__model_value(&d->req[s->rows[i]], (lm_model_comp)c, e2e, plat);
            if (isfinite(v)) x[n] = s->x[i], y[n++] = v;
        }
        lm_model_fitc *f = &s->c[c];
        memset(f, 0, sizeof *f);
        f->have = n > 0;
        if (n) rc = lm__model_fit_comp(x, y, n, m->form, lm__model_axis_floor(s->axis), f, err);
    }
    free(x), free(y);
    return rc;
}

static int by_series(const void *a, const void *b) {
    const lm_model_series *u = a, *v = b;
    int c;
    if ((c = strcmp(u->function, v->function)) || (c = strcmp(u->runtime, v->runtime))) return c;
    if (u->axis != v->axis) return u->axis < v->axis ? -1 : 1;
    if ((c = strcmp(v->start, u->start))) return c; /* warm before cold */
    if ((c = strcmp(u->load ? u->load : "", v->load ? v->load : ""))) return c;
    if (u->concurrency != v->concurrency) return u->concurrency < v->concurrency ? -1 : 1;
    if (!same_rate(u->rate_rps, v->rate_rps)) return u->rate_rps < v->rate_rps ? -1 : 1;
    return strcmp(u->payload ? u->payload : "", v->payload ? v->payload : "");
}

int lm_model_fit(lm_model *m, char *err) {
    struct lm__model_data *d = m->data;
    draft *dr = NULL;
    size_t ndr = 0;
    if (drafts_of(d, &dr, &ndr) != LM_OK) return lm_errf(err, "out of memory");
    int rc = LM_OK;
    m->series = calloc(ndr ? ndr : 1, sizeof *m->series);
    if (!m->series) rc = lm_errf(err, "out of memory");
    for (size_t k = 0; k < ndr && rc == LM_OK; k++) {
        lm_model_series *s = &m->series[m->nseries];
        memset(s, 0, sizeof *s);
        const lm__model_block *b = &d->blocks[dr[k].blocks[0]];
        s->axis = dr[k].axis;
        s->function = b->function;
        s->runtime = b->runtime;
        s->start = b->start;
        s->concurrency = LM__MODEL_NONE;
        s->rate_rps = NAN;
        if (s->axis == LM_MODEL_AXIS_SIZE) {
            s->load = b->load;
            s->concurrency = b->concurrency;
            s->rate_rps = b->rate_rps;
        } else {
            s->payload = b->payload;
            s->load = b->load;
        }
        char why = 0;
        int ok = place(d, &dr[k], s, &why);
        if (ok <= 0) {
            free(s->rows), free(s->x), free(s->levels), free(s->at), free(s->first);
            memset(s, 0, sizeof *s);
        }
        if (ok < 0) {
            rc = lm_errf(err, "out of memory");
        } else if (ok == 0) {
            if (why == 'n')
                m->nosize++;
            else
                m->single++;
        } else {
            m->nseries++;
            rc = lm__model_series_fit(m, s, err);
        }
    }
    for (size_t k = 0; k < ndr; k++)
        free(dr[k].blocks);
    free(dr);
    if (rc == LM_OK) qsort(m->series, m->nseries, sizeof *m->series, by_series);
    return rc;
}
