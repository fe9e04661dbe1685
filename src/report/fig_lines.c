/* fig_lines.c -- the report's line figures (figures.c's table): CDFs of
 * storage I/O and serialization time normalised to the baseline (the
 * paper's Fig. 6), throughput against p50 and p99 latency over the
 * concurrency levels or open-loop rates of a function (Fig. 8), and each
 * trace replay's latency over time with its cold starts and the
 * platform's events marked. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/internal.h"
#include "results/results.h"

static int same(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define CDF_POINTS 400

/* The CDF of v[0..n) (sorted) in at most CDF_POINTS steps. */
static size_t cdf_points(const double *v, size_t n, double *x, double *y) {
    if (n == 0) return 0;
    size_t k = n < CDF_POINTS ? n : CDF_POINTS;
    for (size_t i = 0; i < k; i++) {
        size_t idx = k == n ? i : (size_t)((double)(i + 1) * (double)n / (double)k) - 1;
        x[i] = v[idx];
        y[i] = (double)(idx + 1) / (double)n;
    }
    return k;
}

static int cdf(lm_report_doc *d, int metric, const char *id, const char *title, char *err) {
    const char *base = d->base_io;
    if (!base) return LM_OK;
    size_t nr = 0;
    const char **rts = lm__report_runtimes(d, &nr);
    if (!rts) return lm_errf(err, "out of memory");
    lm__series *s = calloc(nr + 1, sizeof *s);
    double **xs = calloc(nr + 1, sizeof *xs), **ys = calloc(nr + 1, sizeof *ys);
    size_t ns = 0;
    int rc = LM_OK;
    if (!s || !xs || !ys) {
        rc = lm_errf(err, "out of memory");
        goto out;
    }
    for (size_t r = 0; r < nr; r++) {
        size_t n = 0, cap = 0;
        double *v = NULL;
        for (size_t i = 0; i < d->npools; i++) {
            const lm__pool *p = &d->pools[i];
            if (!p->base || !same(p->start, "warm") || !same(p->runtime, rts[r]) || !p->n[metric])
                continue;
            long b = lm__report_twin(d, p, base);
            if (b < 0) continue;
            const lm__pool *q = &d->pools[b];
            if (!q->n[metric] || !(q->d[metric].median > 0)) continue;
            if (n + p->n[metric] > cap) {
                cap = (n + p->n[metric]) * 2;
                double *nv = realloc(v, cap * sizeof *nv);
                if (!nv) {
                    free(v);
                    rc = lm_errf(err, "out of memory");
                    goto out;
                }
                v = nv;
            }
            for (size_t k = 0; k < p->n[metric]; k++)
                v[n++] = p->x[metric][k] / q->d[metric].median;
        }
        if (n == 0) {
            free(v);
            continue;
        }
        qsort(v, n, sizeof *v, cmp_dbl);
        xs[ns] = malloc(CDF_POINTS * sizeof(double));
        ys[ns] = malloc(CDF_POINTS * sizeof(double));
        if (!xs[ns] || !ys[ns]) {
            free(v);
            rc = lm_errf(err, "out of memory");
            goto out;
        }
        /* Zeros cannot be drawn on the log axis: they start at the CDF's
         * first positive value (the CSV keeps them). */
        size_t k = cdf_points(v, n, xs[ns], ys[ns]);
        free(v);
        s[ns] = (lm__series){rts[r], "x", "F", xs[ns], ys[ns], k};
        ns++;
    }
    if (ns == 0) goto out;
    char cap[1024];
    snprintf(cap, sizeof cap,
             "The cumulative distribution of each warm request's %s divided by the median of "
             "its cell's twin on %s (same function, payload and load), over every function "
             "where %s spends measurable time on it (closed loops of one client; at most %d "
             "points per runtime, each an order statistic). 1 is %s's median; a curve to the "
             "right is an overhead. Log x.",
             metric == LM__IO ? "storage I/O time (io_ns)" : "serialization time (ser_ns)", base,
             base, CDF_POINTS, base);
    lm__fig fg;
    if ((rc = lm__fig_begin(d, &fg, id, title, cap, err)) != LM_OK) goto out;
    lm__fig_wide(fg.csv, s, ns);
    char body[8192];
    size_t k = (size_t)snprintf(body, sizeof body,
                                "set title '%s'\nset xlabel 'time / %s median (log)'\n"
                                "set ylabel 'fraction of requests'\nset logscale x\n"
                                "set yrange [0:1]\nset arrow from 1, graph 0 to 1, graph 1 "
                                "nohead dt 3 lc rgb '#888888'\nplot ",
                                title, base);
    for (size_t i = 0; i < ns && k < sizeof body; i++)
        k += (size_t)snprintf(body + k, sizeof body - k,
                              "%s'__ID__.csv' using (($%zu) > 0 ? $%zu : NaN):%zu with steps lw 2 "
                              "title '%s'",
                              i ? ", " : "", 2 * i + 1, 2 * i + 1, 2 * i + 2, s[i].name);
    lm__fig_finish_script(&fg, 900, 520, body);
    rc = lm__fig_end(&fg, err);
out:
    for (size_t i = 0; xs && ys && i < nr; i++) {
        free(xs[i]);
        free(ys[i]);
    }
    free(xs);
    free(ys);
    free(s);
    free(rts);
    return rc;
}

int lm__fig_cdf(lm_report_doc *d, char *err) {
    if (cdf(d, LM__IO, "cdf-io", "Storage I/O time, normalised", err) != LM_OK) return LM_ERR;
    return cdf(d, LM__SER, "cdf-ser", "Serialization time, normalised", err);
}

/* Throughput against p50 and p99 over the levels of one function and
 * payload: closed loops by concurrency, or open loops by rate. */
static int load_figure(lm_report_doc *d, const lm__pool *p, int open, char *err) {
    size_t nr = 0;
    const char **rts = lm__report_runtimes(d, &nr);
    if (!rts) return lm_errf(err, "out of memory");
    size_t cap = d->npools + 1;
    double *buf = malloc(4 * cap * (nr + 1) * sizeof *buf);
    lm__series *s = calloc(2 * nr + 1, sizeof *s);
    int rc = LM_OK;
    if (!buf || !s) {
        rc = lm_errf(err, "out of memory");
        goto out;
    }
    size_t ns = 0, maxlv = 0;
    for (size_t r = 0; r < nr; r++) {
        double *tp = buf + 4 * cap * r, *p50 = tp + cap, *p99 = p50 + cap, *lvl = p99 + cap;
        size_t n = 0;
        for (size_t i = 0; i < d->npools; i++) {
            const lm__pool *q = &d->pools[i];
            if (!same(q->load, p->load) || !same(q->start, "warm") ||
                !same(q->function, p->function) || !same(q->payload, p->payload) ||
                !same(q->runtime, rts[r]) || !q->n[LM__E2E] || isnan(q->throughput_rps))
                continue;
            lvl[n] = open ? q->rate_rps : (double)q->concurrency;
            tp[n] = q->throughput_rps;
            p50[n] = q->d[LM__E2E].median;
            p99[n] = q->d[LM__E2E].p99;
            n++;
        }
        /* In order of the level (insertion sort: a few levels). */
        for (size_t a = 1; a < n; a++)
            for (size_t b = a; b > 0 && lvl[b - 1] > lvl[b]; b--) {
                double *arr[] = {tp, p50, p99, lvl};
                for (int k = 0; k < 4; k++) {
                    double t = arr[k][b - 1];
                    arr[k][b - 1] = arr[k][b];
                    arr[k][b] = t;
                }
            }
        if (n < 2) continue;
        if (n > maxlv) maxlv = n;
        s[ns++] = (lm__series){rts[r], "throughput rps", "p50 ms", tp, p50, n};
        s[ns++] = (lm__series){rts[r], "throughput rps", "p99 ms", tp, p99, n};
    }
    if (ns == 0) goto out;
    char id[256], title[300], cap_text[1024];
    snprintf(id, sizeof id, "%s-%s%s%s", open ? "rate" : "concurrency", p->function,
             p->payload ? "-" : "", p->payload ? p->payload : "");
    snprintf(title, sizeof title, "Throughput and latency, %s%s%s (%s)", p->function,
             p->payload ? "/" : "", p->payload ? p->payload : "",
             open ? "open-loop rates" : "closed-loop concurrency");
    snprintf(cap_text, sizeof cap_text,
             "Per runtime, each warm %s cell of the function and payload (repetitions pooled) as "
             "a point: its throughput (answered requests over the time from the first send to "
             "the last receive) against the median (dashed) and p99 (solid) of its end-to-end "
             "times, the points joined in order of the %s (the paper's Fig. 8). The dotted "
             "line is the SLO (%g ms). Log y.",
             open ? "open-loop" : "closed-loop", open ? "rate" : "concurrency", d->slo_ms);
    lm__fig fg;
    if ((rc = lm__fig_begin(d, &fg, id, title, cap_text, err)) != LM_OK) goto out;
    lm__fig_wide(fg.csv, s, ns);
    char body[16384];
    size_t k = (size_t)snprintf(body, sizeof body,
                                "set title '%s'\nset xlabel 'throughput (requests/s)'\n"
                                "set ylabel 'latency ms (log)'\nset logscale y\n"
                                "set arrow from graph 0, first %g to graph 1, first %g nohead "
                                "dt 3 lc rgb '#aa0000'\nplot ",
                                title, d->slo_ms, d->slo_ms);
    for (size_t i = 0; i < ns && k < sizeof body; i++)
        k += (size_t)snprintf(body + k, sizeof body - k,
                              "%s'__ID__.csv' using %zu:%zu with linespoints lt %zu pt 7 dt %d "
                              "title '%s %s'",
                              i ? ", " : "", 2 * i + 1, 2 * i + 2, i / 2 + 1, i % 2 ? 1 : 2,
                              s[i].name, i % 2 ? "p99" : "p50");
    lm__fig_finish_script(&fg, 900, 540, body);
    rc = lm__fig_end(&fg, err);
out:
    free(buf);
    free(s);
    free(rts);
    return rc;
}

int lm__fig_concurrency(lm_report_doc *d, char *err) {
    for (int open = 0; open < 2; open++)
        for (size_t i = 0; i < d->npools; i++) {
            const lm__pool *p = &d->pools[i];
            if (!p->load || strcmp(p->load, open ? "open" : "closed") || !same(p->start, "warm"))
                continue;
            int first = 1;
            for (size_t j = 0; j < i && first; j++)
                first = !(same(d->pools[j].load, p->load) && same(d->pools[j].start, "warm") &&
                          same(d->pools[j].function, p->function) &&
                          same(d->pools[j].payload, p->payload));
            if (first && load_figure(d, p, open, err) != LM_OK) return LM_ERR;
        }
    return LM_OK;
}

#define TL_POINTS 4000 /* above this many requests, a trace's timeline is binned */
#define TL_BINS 400
#define TL_SERVICES 8

/* One trace replay cell: each service's requests (or their bins), the
 * cold ones, and the events of its services in its time. */
static int timeline(lm_report_doc *d, const lm_report_group *g, const lm__gx *x, char *err) {
    if (x->ntl == 0) return LM_OK;
    double tmin = INFINITY, tmax = -INFINITY, ymax = 0;
    for (size_t i = 0; i < x->ntl; i++) {
        const lm__tl_point *p = &x->tl[i];
        if (isnan(p->t_s)) continue;
        if (p->t_s < tmin) tmin = p->t_s;
        if (p->t_s > tmax) tmax = p->t_s;
        if (p->e2e_ms > ymax) ymax = p->e2e_ms;
    }
    if (!(tmax >= tmin)) return LM_OK;
    int64_t svc[TL_SERVICES];
    size_t nsvc = 0;
    for (size_t i = 0; i < x->ntl && nsvc < TL_SERVICES; i++) {
        size_t k = 0;
        while (k < nsvc && svc[k] != x->tl[i].service_id)
            k++;
        if (k == nsvc) svc[nsvc++] = x->tl[i].service_id;
    }
    size_t cap = x->ntl + 1;
    int binned = x->ntl > TL_POINTS;
    size_t per = binned ? 2 * TL_BINS : cap;
    /* Series: per service its points (or its bins' p50 and p99), the cold
     * requests, one per event kind. */
    size_t maxs = 2 * nsvc + 1 + 4;
    double *buf = malloc(2 * (per * 2 * nsvc + 2 * cap + 4 * 2 * (d->nev + 1)) * sizeof *buf);
    lm__series *s = calloc(maxs, sizeof *s);
    char(*names)[160] = calloc(maxs, sizeof *names);
    int rc = LM_OK;
    if (!buf || !s || !names) {
        rc = lm_errf(err, "out of memory");
        goto out;
    }
    double *w = buf;
    size_t ns = 0;
    double span = tmax - tmin > 0 ? tmax - tmin : 1;
    for (size_t k = 0; k < nsvc; k++) {
        const lm__service *sv = lm__report_service(d, svc[k]);
        const char *name = sv && sv->name ? sv->name : "service";
        if (!binned) {
            double *xs = w, *ys = w + cap;
            size_t n = 0;
            for (size_t i = 0; i < x->ntl; i++)
                if (x->tl[i].service_id == svc[k] && !isnan(x->tl[i].t_s) && x->tl[i].ok) {
                    xs[n] = x->tl[i].t_s - tmin;
                    ys[n++] = x->tl[i].e2e_ms;
                }
            w += 2 * cap;
            snprintf(names[ns], sizeof names[ns], "%s", name);
            s[ns] = (lm__series){names[ns], "t s", "e2e ms", xs, ys, n};
            ns++;
            continue;
        }
        /* Bins of equal time: p50 and p99 of each bin's answered requests. */
        double *bx = w, *b50 = w + TL_BINS, *bx2 = w + 2 * TL_BINS, *b99 = w + 3 * TL_BINS;
        w += 4 * TL_BINS;
        size_t nb = 0;
        double *tmp = malloc(x->ntl * sizeof *tmp);
        if (!tmp) {
            rc = lm_errf(err, "out of memory");
            goto out;
        }
        for (size_t b = 0; b < TL_BINS; b++) {
            double lo = tmin + span * (double)b / TL_BINS,
                   hi = tmin + span * (double)(b + 1) / TL_BINS;
            size_t m = 0;
            for (size_t i = 0; i < x->ntl; i++) {
                const lm__tl_point *p = &x->tl[i];
                if (p->service_id == svc[k] && p->ok && p->t_s >= lo &&
                    (p->t_s < hi || (b == TL_BINS - 1 && p->t_s <= hi)))
                    tmp[m++] = p->e2e_ms;
            }
            if (m == 0) continue;
            qsort(tmp, m, sizeof *tmp, cmp_dbl);
            bx[nb] = bx2[nb] = (lo + hi) / 2 - tmin;
            b50[nb] = lm_stats_quantile(tmp, m, 0.5);
            b99[nb] = lm_stats_quantile(tmp, m, 0.99);
            nb++;
        }
        free(tmp);
        snprintf(names[ns], sizeof names[ns], "%s p50", name);
        s[ns] = (lm__series){names[ns], "t s", "e2e ms", bx, b50, nb};
        ns++;
        snprintf(names[ns], sizeof names[ns], "%s p99", name);
        s[ns] = (lm__series){names[ns], "t s", "e2e ms", bx2, b99, nb};
        ns++;
    }
    size_t first_extra = ns;
    {
        double *xs = w, *ys = w + cap;
        size_t n = 0;
        for (size_t i = 0; i < x->ntl; i++)
            if (x->tl[i].cold && !isnan(x->tl[i].t_s) && x->tl[i].ok) {
                xs[n] = x->tl[i].t_s - tmin;
                ys[n++] = x->tl[i].e2e_ms;
            }
        w += 2 * cap;
        snprintf(names[ns], sizeof names[ns], "cold start");
        s[ns] = (lm__series){names[ns], "t s", "e2e ms", xs, ys, n};
        ns++;
    }
    /* Events of the cell's services in its time, one series per kind (at
     * the top of the plot). */
    double t0 = (double)x->t0_ns / 1e9 + tmin;
    const char *kinds[4];
    size_t nk = 0;
    for (size_t e = 0; e < d->nev; e++) {
        const lm__event *ev = &d->ev[e];
        int mine = 0;
        for (size_t k = 0; k < nsvc; k++)
            mine |= ev->service_id == svc[k];
        double t = (double)ev->t_ns / 1e9 - t0;
        if (!mine || !ev->kind || t < -1 || t > span + 1) continue;
        size_t k = 0;
        while (k < nk && !same(kinds[k], ev->kind))
            k++;
        if (k == nk && nk < 4) kinds[nk++] = ev->kind;
    }
    for (size_t k = 0; k < nk; k++) {
        double *xs = w, *ys = w + d->nev + 1;
        size_t n = 0;
        for (size_t e = 0; e < d->nev; e++) {
            const lm__event *ev = &d->ev[e];
            int mine = 0;
            for (size_t j = 0; j < nsvc; j++)
                mine |= ev->service_id == svc[j];
            double t = (double)ev->t_ns / 1e9 - t0;
            if (!mine || !same(ev->kind, kinds[k]) || t < -1 || t > span + 1) continue;
            xs[n] = t;
            ys[n++] = ymax > 0 ? ymax * (1.3 + 0.25 * (double)k) : 1;
        }
        w += 2 * (d->nev + 1);
        snprintf(names[ns], sizeof names[ns], "%s event", kinds[k]);
        s[ns] = (lm__series){names[ns], "t s", "mark", xs, ys, n};
        ns++;
    }
    char id[256], title[400], cap_text[1024];
    snprintf(id, sizeof id, "timeline-cell-%lld", (long long)g->cell_id);
    snprintf(title, sizeof title, "Latency over time, %s", g->name ? g->name : "trace");
    snprintf(cap_text, sizeof cap_text,
             "The trace replay's requests over time (from its first intended send): each "
             "service's end-to-end times%s, the cold requests circled, and the platform's events "
             "of its services (events table: scale decisions, evictions...) marked at the top. "
             "Log y.",
             binned ? " as the p50 and p99 of 400 equal bins of time (more than 4000 requests)"
                    : "");
    lm__fig fg;
    if ((rc = lm__fig_begin(d, &fg, id, title, cap_text, err)) != LM_OK) goto out;
    lm__fig_wide(fg.csv, s, ns);
    char body[16384];
    size_t k = (size_t)snprintf(body, sizeof body,
                                "set title '%s'\nset xlabel 'time (s)'\nset ylabel 'end to end "
                                "ms (log)'\nset logscale y\nplot ",
                                title);
    for (size_t i = 0; i < ns && k < sizeof body; i++) {
        const char *style = i < first_extra
                                ? (binned ? "with lines lw 1.5" : "with points pt 7 ps 0.4")
                            : i == first_extra ? "with points pt 6 ps 1.2 lc rgb '#000000'"
                                               : "with points pt 11 ps 1.3";
        char l[200];
        lm__fig_label(l, sizeof l, s[i].name);
        k += (size_t)snprintf(body + k, sizeof body - k,
                              "%s'__ID__.csv' using %zu:%zu %s title '%s'", i ? ", " : "",
                              2 * i + 1, 2 * i + 2, style, l);
    }
    lm__fig_finish_script(&fg, 1000, 520, body);
    rc = lm__fig_end(&fg, err);
out:
    free(buf);
    free(s);
    free(names);
    return rc;
}

int lm__fig_timeline(lm_report_doc *d, char *err) {
    const lm_report_summary *s = &d->sum[LM__E2E];
    for (size_t i = 0; i < s->ngroups; i++) {
        long pi = s->groups[i].pass_index;
        if (pi < 0 || (size_t)pi >= d->ngx || !d->gx[pi].trace) continue;
        if (timeline(d, &s->groups[i], &d->gx[pi], err) != LM_OK) return LM_ERR;
    }
    return LM_OK;
}
