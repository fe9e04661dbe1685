/* fig_bars.c -- the report's bar figures (figures.c's table): artifact
 * sizes; end-to-end time, warm and cold, per function and payload group
 * with the median's interval; CPU time and peak memory per request and per
 * instance. docs/report.md says how each is computed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/internal.h"

static int same(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

static size_t add_unique(const char **list, size_t n, const char *s) {
    for (size_t i = 0; i < n; i++)
        if (same(list[i], s)) return n;
    list[n] = s;
    return n + 1;
}

static void label_cell(FILE *csv, const char *a, const char *b) {
    char l[256], t[300];
    snprintf(t, sizeof t, "%s%s%s", a ? a : "?", b ? "/" : "", b ? b : "");
    lm__fig_label(l, sizeof l, t);
    fputs(l, csv);
}

int lm__fig_sizes(lm_report_doc *d, char *err) {
    if (d->nart == 0) return LM_OK;
    const char **fns = calloc(d->nart, sizeof *fns), **rts = calloc(d->nart, sizeof *rts);
    size_t nf = 0, nr = 0;
    int rc = LM_ERR;
    if (!fns || !rts) {
        lm_errf(err, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < d->nart; i++) {
        if (d->art[i].function) nf = add_unique(fns, nf, d->art[i].function);
        if (d->art[i].runtime) nr = add_unique(rts, nr, d->art[i].runtime);
    }
    /* Series: each runtime's compressed image (where it has one) and its
     * uncompressed artifact. */
    const char *sname[512];
    int scomp[512];
    size_t ns = 0;
    for (size_t r = 0; r < nr && ns + 2 <= 512; r++)
        for (int c = 1; c <= 2; c++) {
            int any = 0;
            for (size_t f = 0; f < nf; f++)
                any |= lm__report_size(d, fns[f], rts[r], c, NULL) > 0;
            if (!any) continue;
            sname[ns] = rts[r];
            scomp[ns++] = c;
        }
    lm__fig fg;
    if (lm__fig_begin(d, &fg, "sizes", "Artifact and image sizes",
                      "What each runtime deploys for each function, from the artifacts table "
                      "(the sizes of the files on disk when the run began): an OCI image's "
                      "compressed blobs and its unpacked root file system (container: scratch "
                      "base; container-slim: debian-slim base), an AoT executable, a .wasm "
                      "module, a native executable. Log scale; exact, no sampling error.",
                      err) != LM_OK)
        goto out;
    fputs("function", fg.csv);
    for (size_t s = 0; s < ns; s++) {
        char l[128];
        lm__fig_label(l, sizeof l, sname[s]);
        fprintf(fg.csv, ",%s %s bytes", l, scomp[s] == 1 ? "compressed" : "uncompressed");
    }
    fputc('\n', fg.csv);
    for (size_t f = 0; f < nf; f++) {
        label_cell(fg.csv, fns[f], NULL);
        for (size_t s = 0; s < ns; s++) {
            int64_t b = lm__report_size(d, fns[f], sname[s], scomp[s], NULL);
            fputc(',', fg.csv);
            lm__fig_num(fg.csv, b > 0 ? (double)b : NAN);
        }
        fputc('\n', fg.csv);
    }
    char body[16384];
    lm__fig_bars_body(body, sizeof body, "Artifact and image sizes", "bytes (log)", 1, ns, 0, 1);
    lm__fig_finish_script(&fg, lm__fig_width(nf, ns), 520, body);
    rc = lm__fig_end(&fg, err);
out:
    free(fns);
    free(rts);
    return rc;
}

/* Clustered bars of one metric's median with its interval, over the base
 * pools of start (NULL: any), clustered by function and payload, a series
 * per runtime. scale divides the values (1e6 bytes to MB...). */
static int pool_bars(lm_report_doc *d, const char *id, const char *title, const char *caption,
                     const char *ylabel, int metric, const char *start, double scale, int logy,
                     char *err) {
    size_t nr = 0;
    const char **rts = lm__report_runtimes(d, &nr);
    if (!rts) return lm_errf(err, "out of memory");
    /* The clusters: base pools' function and payload, in order. */
    size_t *cl = calloc(d->npools + 1, sizeof *cl), nc = 0;
    if (!cl) {
        free(rts);
        return lm_errf(err, "out of memory");
    }
    for (size_t i = 0; i < d->npools; i++) {
        const lm__pool *p = &d->pools[i];
        if (!p->base || (start && !same(p->start, start)) || p->n[metric] == 0) continue;
        int seen = 0;
        for (size_t k = 0; k < nc && !seen; k++)
            seen = same(d->pools[cl[k]].function, p->function) &&
                   same(d->pools[cl[k]].payload, p->payload);
        if (!seen) cl[nc++] = i;
    }
    int rc = LM_OK;
    if (nc == 0) goto out;
    lm__fig fg;
    if ((rc = lm__fig_begin(d, &fg, id, title, caption, err)) != LM_OK) goto out;
    fputs("cell", fg.csv);
    for (size_t r = 0; r < nr; r++) {
        char l[128];
        lm__fig_label(l, sizeof l, rts[r]);
        fprintf(fg.csv, ",%s,%s lo,%s hi", l, l, l);
    }
    fputc('\n', fg.csv);
    for (size_t k = 0; k < nc; k++) {
        const lm__pool *c = &d->pools[cl[k]];
        label_cell(fg.csv, c->function, c->payload);
        for (size_t r = 0; r < nr; r++) {
            const lm__pool *p = NULL;
            for (size_t i = 0; i < d->npools && !p; i++) {
                const lm__pool *q = &d->pools[i];
                if (q->base && (!start || same(q->start, start)) &&
                    same(q->function, c->function) && same(q->payload, c->payload) &&
                    same(q->runtime, rts[r]) && q->n[metric])
                    p = q;
            }
            double v = p ? p->d[metric].median / scale : NAN;
            double lo = p && p->ci[metric].ok ? p->ci[metric].lo / scale : v;
            double hi = p && p->ci[metric].ok ? p->ci[metric].hi / scale : v;
            if (logy && v <= 0) v = lo = hi = NAN;
            fputc(',', fg.csv);
            lm__fig_num(fg.csv, v);
            fputc(',', fg.csv);
            lm__fig_num(fg.csv, logy && lo <= 0 ? v : lo);
            fputc(',', fg.csv);
            lm__fig_num(fg.csv, hi);
        }
        fputc('\n', fg.csv);
    }
    char body[16384];
    lm__fig_bars_body(body, sizeof body, title, ylabel, logy, nr, 1, 1);
    lm__fig_finish_script(&fg, lm__fig_width(nc, nr), 520, body);
    rc = lm__fig_end(&fg, err);
out:
    free(cl);
    free(rts);
    return rc;
}

int lm__fig_latency(lm_report_doc *d, char *err) {
    static const char cap[] =
        "Median end-to-end time of the %s requests of closed-loop cells of one client "
        "(repetitions pooled; a platform's file: each service's %s requests), per function and "
        "payload group, with the 95%% distribution-free interval of the median (binomial order "
        "statistics). End to end is the client's intended send to its receive when every row "
        "has it, else the gateway's ingress to response, else the instance's INVOKE to RESULT. "
        "Log scale.";
    char c[1024];
    snprintf(c, sizeof c, cap, "warm", "warm");
    if (pool_bars(d, "e2e-warm", "End-to-end time, warm", c, "ms (log)", LM__E2E, "warm", 1, 1,
                  err) != LM_OK)
        return LM_ERR;
    snprintf(c, sizeof c, cap, "cold", "cold");
    return pool_bars(d, "e2e-cold", "End-to-end time, cold", c, "ms (log)", LM__E2E, "cold", 1, 1,
                     err);
}

/* Per instance: the median over a function's instances on each runtime
 * of their requests' CPU time summed, or of their largest peak. */
static int inst_bars(lm_report_doc *d, const char *id, const char *title, const char *caption,
                     const char *ylabel, int which, double scale, char *err) {
    size_t nr = 0, nf = 0;
    const char **rts = lm__report_runtimes(d, &nr);
    const char **fns = calloc(d->npools + 1, sizeof *fns);
    int rc = LM_OK;
    if (!rts || !fns) {
        rc = lm_errf(err, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < d->npools; i++)
        if (d->pools[i].function) nf = add_unique(fns, nf, d->pools[i].function);
    int any = 0;
    for (size_t f = 0; f < nf && !any; f++)
        for (size_t r = 0; r < nr && !any; r++) {
            size_t n;
            double *v = lm__report_inst_values(d, fns[f], rts[r], which, &n);
            any = v != NULL;
            free(v);
        }
    if (!any) goto out;
    lm__fig fg;
    if ((rc = lm__fig_begin(d, &fg, id, title, caption, err)) != LM_OK) goto out;
    fputs("function", fg.csv);
    for (size_t r = 0; r < nr; r++) {
        char l[128];
        lm__fig_label(l, sizeof l, rts[r]);
        fprintf(fg.csv, ",%s,%s lo,%s hi", l, l, l);
    }
    fputs(",instances\n", fg.csv);
    for (size_t f = 0; f < nf; f++) {
        label_cell(fg.csv, fns[f], NULL);
        size_t total = 0;
        for (size_t r = 0; r < nr; r++) {
            size_t n = 0;
            double *v = lm__report_inst_values(d, fns[f], rts[r], which, &n);
            double m = v ? lm_stats_quantile(v, n, 0.5) / scale : NAN, lo = m, hi = m;
            lm_stats_ci ci;
            if (v && lm_stats_ci_median(v, n, 0.95, &ci, NULL) == LM_OK && ci.ok)
                lo = ci.lo / scale, hi = ci.hi / scale;
            total += n;
            free(v);
            if (!(m > 0)) m = lo = hi = NAN;
            fputc(',', fg.csv);
            lm__fig_num(fg.csv, m);
            fputc(',', fg.csv);
            lm__fig_num(fg.csv, lo > 0 ? lo : m);
            fputc(',', fg.csv);
            lm__fig_num(fg.csv, hi);
        }
        fprintf(fg.csv, ",%zu\n", total);
    }
    char body[16384];
    lm__fig_bars_body(body, sizeof body, title, ylabel, 1, nr, 1, 1);
    lm__fig_finish_script(&fg, lm__fig_width(nf, nr), 520, body);
    rc = lm__fig_end(&fg, err);
out:
    free(rts);
    free(fns);
    return rc;
}

int lm__fig_resources(lm_report_doc *d, char *err) {
    static const char req[] =
        "Per request (Fig. 7 of the paper): the median %s of the warm requests of closed-loop "
        "cells of one client, per function and payload group, with the 95%% interval of the "
        "median. The instance's cgroup measures it during the request; an instance serves one "
        "request at a time, so it is that request's (docs/telemetry.md). Log scale.";
    char c[1024];
    snprintf(c, sizeof c, req, "CPU time (user + system, cpu_ns)");
    if (pool_bars(d, "cpu-request", "CPU time per request", c, "ms (log)", LM__CPU, "warm", 1, 1,
                  err) != LM_OK)
        return LM_ERR;
    snprintf(c, sizeof c, req, "peak memory (mem_peak_bytes, the peak reset before each request)");
    if (pool_bars(d, "mem-request", "Peak memory per request", c, "MiB (log)", LM__MEM, "warm",
                  1048576.0, 1, err) != LM_OK)
        return LM_ERR;
    if (inst_bars(d, "cpu-instance", "CPU time per instance",
                  "Per instance: the CPU time of all the requests an instance answered, summed "
                  "(its start-up not included), the median over a function's instances on each "
                  "runtime with the 95% interval of the median where there are at least 6. Log "
                  "scale.",
                  "ms (log)", 0, 1, err) != LM_OK)
        return LM_ERR;
    return inst_bars(d, "mem-instance", "Peak memory per instance",
                     "Per instance: the largest peak memory of one of its requests, the median "
                     "over a function's instances on each runtime with the 95% interval of the "
                     "median where there are at least 6. Log scale.",
                     "MiB (log)", 1, 1048576.0, err);
}
