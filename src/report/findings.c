/* findings.c -- the report's findings (internal.h): each runtime against
 * its baseline in twin pools (same function, payload, start and load) on
 * one metric, as the ratio of the medians with its interval (the seeded
 * bootstrap of stats.h; for very large samples the normal approximation
 * on the log scale from the two medians' distribution-free intervals) and
 * the Mann-Whitney test; then sentences per runtime and workload class (or
 * function) that state only what those support, the artifact sizes, and
 * where each runtime's p99 leaves the SLO. docs/report.md is the method. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "report/internal.h"
#include "results/results.h"

static int same(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

static int has_runtime(const lm_report_doc *d, const char *rt) {
    for (size_t i = 0; i < d->npools; i++)
        if (same(d->pools[i].runtime, rt)) return 1;
    for (size_t i = 0; i < d->nart; i++)
        if (same(d->art[i].runtime, rt)) return 1;
    return 0;
}

/* ---- artifact sizes ---- */

int64_t lm__report_size(const lm_report_doc *d, const char *function, const char *runtime,
                        int compressed, const char **kind) {
    static const char *const deploy[] = {
        "image-compressed", "aot-executable", "compiled", "module", "wasm", "executable", NULL};
    static const char *const packed[] = {"image-compressed", NULL};
    static const char *const unpacked[] = {
        "image-uncompressed", "aot-executable", "compiled", "module", "wasm", "executable", NULL};
    const char *const *order = compressed == 1 ? packed : compressed == 2 ? unpacked : deploy;
    for (size_t k = 0; order[k]; k++)
        for (size_t i = 0; i < d->nart; i++) {
            const lm__artifact *a = &d->art[i];
            if (same(a->function, function) && same(a->runtime, runtime) &&
                same(a->kind, order[k]) && a->bytes >= 0) {
                if (kind) *kind = order[k];
                return a->bytes;
            }
        }
    return -1;
}

/* ---- one comparison ---- */

/* The interval of median(a) / median(b) for large samples: on the log
 * scale, the half-widths of the two medians' 95% intervals (divided by
 * 1.96) added in quadrature. */
static int ratio_large(const double *a, size_t na, const double *b, size_t nb, lm_stats_ratio *r,
                       char *err) {
    lm_stats_ci ca, cb;
    if (lm_stats_ci_median(a, na, 0.95, &ca, err) != LM_OK ||
        lm_stats_ci_median(b, nb, 0.95, &cb, err) != LM_OK)
        return LM_ERR;
    double ma = lm_stats_quantile(a, na, 0.5), mb = lm_stats_quantile(b, nb, 0.5);
    memset(r, 0, sizeof *r);
    r->ratio = ma / mb;
    r->ci.level = 0.95;
    r->ci.lo = r->ci.hi = NAN;
    if (!(ca.lo > 0 && cb.lo > 0 && ma > 0 && mb > 0)) return LM_OK;
    double z = 1.959963984540054;
    double sa = (log(ca.hi) - log(ca.lo)) / (2 * z), sb = (log(cb.hi) - log(cb.lo)) / (2 * z);
    double half = z * sqrt(sa * sa + sb * sb);
    r->ci.ok = 1;
    r->ci.lo = r->ratio * exp(-half);
    r->ci.hi = r->ratio * exp(half);
    return LM_OK;
}

void lm__report_compare(lm_report_doc *d, lm__cmp *c, const double *a, size_t na, const double *b,
                        size_t nb) {
    char err[LM_ERRLEN];
    c->na = na;
    c->nb = nb;
    c->a_median = na ? lm_stats_quantile(a, na, 0.5) : NAN;
    c->b_median = nb ? lm_stats_quantile(b, nb, 0.5) : NAN;
    if (na == 0 || nb == 0) {
        snprintf(c->why, sizeof c->why, "no successful request on %s",
                 na == 0 ? c->runtime : c->baseline);
        return;
    }
    if (c->b_median == 0) {
        snprintf(c->why, sizeof c->why, "%s's median is 0: no ratio to it", c->baseline);
        return;
    }
    lm_stats_boot_opts bo = d->sum[0].boot;
    int rc = na + nb <= LM__BOOT_MAX_VALUES
                 ? lm_stats_bootstrap_ratio(a, na, b, nb, &bo, &c->r, err)
                 : ratio_large(a, na, b, nb, &c->r, err);
    if (rc != LM_OK || lm_stats_mann_whitney(a, na, b, nb, &c->u, err) != LM_OK) {
        snprintf(c->why, sizeof c->why, "%.199s", err);
        return;
    }
    c->ok = 1;
    c->significant =
        c->r.ci.ok && (c->r.ci.lo > 1 || c->r.ci.hi < 1) && c->u.p < 0.05 && na >= 2 && nb >= 2;
    if (!c->r.ci.ok)
        snprintf(c->why, sizeof c->why, "too few values for an interval (%zu and %zu)", na, nb);
}

static lm__cmp *new_cmp(lm_report_doc *d) {
    lm__cmp *c = realloc(d->cmp, (d->ncmp + 1) * sizeof *c);
    if (!c) return NULL;
    d->cmp = c;
    c += d->ncmp++;
    memset(c, 0, sizeof *c);
    return c;
}

typedef struct {
    const char *topic; /* the comparison's name */
    int metric;        /* LM__* */
    const char *start; /* the pools' start type */
    int io_baseline;   /* 1: to base_io, 0: to base_ct */
    const char *what;  /* the sentence's noun */
} topic_def;

static const topic_def topics[] = {
    {"warm", LM__E2E, "warm", 0, "warm end-to-end latency"},
    {"cold", LM__E2E, "cold", 0, "cold-start latency (end to end, cold requests)"},
    {"io", LM__IO, "warm", 1, "storage I/O time"},
    {"ser", LM__SER, "warm", 1, "serialization time"},
    {"cpu", LM__CPU, "warm", 0, "CPU time per request"},
    {"mem", LM__MEM, "warm", 0, "peak memory per request"},
};

static int comparisons(lm_report_doc *d) {
    for (size_t t = 0; t < sizeof topics / sizeof topics[0]; t++) {
        const topic_def *tp = &topics[t];
        const char *base = tp->io_baseline ? d->base_io : d->base_ct;
        if (!base) continue;
        for (size_t i = 0; i < d->npools; i++) {
            const lm__pool *p = &d->pools[i];
            if (!p->base || !p->runtime || same(p->runtime, base) || !same(p->start, tp->start))
                continue;
            long b = lm__report_twin(d, p, base);
            /* Beyond latency, a cell without answers and a metric the
             * baseline spends no time on say nothing new: no comparison. */
            if (tp->metric != LM__E2E && (p->ok == 0 || (b >= 0 && d->pools[b].ok == 0))) continue;
            if ((tp->metric == LM__IO || tp->metric == LM__SER) && b >= 0 &&
                d->pools[b].n[tp->metric] && !(d->pools[b].d[tp->metric].median > 0))
                continue;
            lm__cmp *c = new_cmp(d);
            if (!c) return LM_ERR;
            c->topic = tp->topic;
            c->pool = i;
            c->base = b >= 0 ? (size_t)b : i;
            c->function = p->function;
            c->runtime = p->runtime;
            c->baseline = base;
            c->payload = p->payload;
            if (b < 0) {
                char name[512];
                lm__report_pool_name(p, name, sizeof name);
                snprintf(c->why, sizeof c->why, "%s did not run this cell's twin", base);
                c->base = i;
                c->a_median = p->n[tp->metric] ? p->d[tp->metric].median : NAN;
                c->b_median = NAN;
                lm__report_note(d, "%s: no %s twin (the baseline did not run it): no %s ratio",
                                name, base, tp->topic);
                continue;
            }
            const lm__pool *q = &d->pools[b];
            lm__report_compare(d, c, p->x[tp->metric], p->n[tp->metric], q->x[tp->metric],
                               q->n[tp->metric]);
        }
    }
    return LM_OK;
}

/* ---- sentences ---- */

typedef struct {
    char *s;
    size_t n, cap;
} text;

static void tput(text *t, const char *fmt, ...) LM_PRINTF(2, 3);
static void tput(text *t, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(t->s ? t->s + t->n : NULL, t->s ? t->cap - t->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) return;
        if (t->s && t->n + (size_t)k < t->cap) {
            t->n += (size_t)k;
            return;
        }
        size_t cap = t->cap ? t->cap * 2 : 512;
        while (cap < t->n + (size_t)k + 1)
            cap *= 2;
        char *p = realloc(t->s, cap);
        if (!p) return;
        t->s = p;
        t->cap = cap;
    }
}

static void fmt_ratio(char *out, size_t n, double r) {
    if (r >= 100)
        snprintf(out, n, "%.0fx", r);
    else if (r >= 10)
        snprintf(out, n, "%.1fx", r);
    else
        snprintf(out, n, "%.2fx", r);
}

static void fmt_p(char *out, size_t n, double p) {
    if (p < 0.001)
        snprintf(out, n, "p < 0.001");
    else
        snprintf(out, n, "p = %.3f", p);
}

static void cmp_clause(text *t, const lm_report_doc *d, const lm__cmp *c) {
    char r[32], lo[32], hi[32], p[32], name[512];
    const lm__pool *pl = &d->pools[c->pool];
    snprintf(name, sizeof name, "%s%s%s", c->function ? c->function : "?", c->payload ? "/" : "",
             c->payload ? c->payload : "");
    (void)pl;
    if (!c->ok) {
        tput(t, "%s: %s", name, c->why);
        return;
    }
    fmt_ratio(r, sizeof r, c->r.ratio);
    fmt_p(p, sizeof p, c->u.p);
    if (c->r.ci.ok) {
        fmt_ratio(lo, sizeof lo, c->r.ci.lo);
        fmt_ratio(hi, sizeof hi, c->r.ci.hi);
        tput(t, "%s %s [%s, %s], %s, n %zu/%zu", name, r, lo, hi, p, c->na, c->nb);
    } else {
        tput(t, "%s %s (no interval: %zu and %zu values), %s", name, r, c->na, c->nb, p);
    }
}

static lm__finding *new_finding(lm_report_doc *d, const char *topic, const char *runtime,
                                const char *baseline, const char *subject) {
    lm__finding *f = realloc(d->fnd, (d->nfnd + 1) * sizeof *f);
    if (!f) return NULL;
    d->fnd = f;
    f += d->nfnd++;
    memset(f, 0, sizeof *f);
    f->topic = topic;
    f->runtime = runtime ? strdup(runtime) : NULL;
    f->baseline = baseline ? strdup(baseline) : NULL;
    f->subject = subject ? strdup(subject) : NULL;
    f->lo = f->hi = NAN;
    return f;
}

static void add_pool(lm__finding *f, size_t p) {
    for (size_t i = 0; i < f->npools; i++)
        if (f->pools[i] == p) return;
    size_t *v = realloc(f->pools, (f->npools + 1) * sizeof *v);
    if (!v) return;
    f->pools = v;
    f->pools[f->npools++] = p;
}

static void add_cmp(lm__finding *f, size_t c) {
    size_t *v = realloc(f->cmp, (f->ncmp + 1) * sizeof *v);
    if (!v) return;
    f->cmp = v;
    f->cmp[f->ncmp++] = c;
}

/* One sentence per runtime and subject (a workload class) of a topic. */
static void ratio_finding(lm_report_doc *d, const topic_def *tp, const char *rt, const char *cls) {
    size_t *idx = malloc((d->ncmp ? d->ncmp : 1) * sizeof *idx), n = 0, ok = 0, sig = 0, up = 0;
    if (!idx) return;
    for (size_t i = 0; i < d->ncmp; i++) {
        const lm__cmp *c = &d->cmp[i];
        if (!same(c->topic, tp->topic) || !same(c->runtime, rt) ||
            !same(d->pools[c->pool].cls, cls))
            continue;
        idx[n++] = i;
        ok += c->ok;
        sig += c->significant;
        up += c->significant && c->r.ratio > 1;
    }
    if (n == 0) {
        free(idx);
        return;
    }
    const char *base = d->cmp[idx[0]].baseline;
    lm__finding *f = new_finding(d, tp->topic, rt, base, cls);
    if (!f) {
        free(idx);
        return;
    }
    text t = {0};
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        const lm__cmp *c = &d->cmp[idx[i]];
        add_cmp(f, idx[i]);
        add_pool(f, c->pool);
        if (c->base != c->pool) add_pool(f, c->base);
        if (c->significant) {
            if (c->r.ratio < lo) lo = c->r.ratio;
            if (c->r.ratio > hi) hi = c->r.ratio;
        }
    }
    char a[32], b[32];
    if (ok == 0) {
        tput(&t, "%s against %s, %s, %s functions: nothing to compare (", rt, base, tp->what, cls);
    } else if (sig == 0) {
        tput(&t, "No significant difference between %s and %s in %s on %s functions (", rt, base,
             tp->what, cls);
    } else {
        fmt_ratio(a, sizeof a, lo);
        fmt_ratio(b, sizeof b, hi);
        f->supported = 1;
        f->lo = lo;
        f->hi = hi;
        const char *dir = up == sig ? "" : up == 0 ? "" : " (in both directions)";
        if (lo == hi)
            tput(&t, "%s's %s is %s %s's on %s functions%s", rt, tp->what, a, base, cls, dir);
        else
            tput(&t, "%s's %s is %s to %s %s's on %s functions%s", rt, tp->what, a, b, base, cls,
                 dir);
        if (hi < 1 && lo == hi)
            tput(&t, " (%.0f%% lower)", (1 - hi) * 100);
        else if (hi < 1)
            tput(&t, " (%.0f%% to %.0f%% lower)", (1 - hi) * 100, (1 - lo) * 100);
        if (sig < n)
            tput(&t, "; in %zu of %zu cells, no significant difference in the others", sig, n);
        tput(&t, " (");
    }
    for (size_t i = 0; i < n; i++) {
        if (i) tput(&t, "; ");
        cmp_clause(&t, d, &d->cmp[idx[i]]);
    }
    tput(&t, ").");
    f->text = t.s;
    free(idx);
}

static void size_findings(lm_report_doc *d) {
    size_t nrt = 0;
    const char **rts = calloc(d->nart + 1, sizeof *rts);
    const char **fns = calloc(d->nart + 1, sizeof *fns);
    size_t nfn = 0;
    if (!rts || !fns) goto out;
    for (size_t i = 0; i < d->nart; i++) {
        size_t k = 0;
        while (k < nrt && !same(rts[k], d->art[i].runtime))
            k++;
        if (k == nrt && d->art[i].runtime) rts[nrt++] = d->art[i].runtime;
        k = 0;
        while (k < nfn && !same(fns[k], d->art[i].function))
            k++;
        if (k == nfn && d->art[i].function) fns[nfn++] = d->art[i].function;
    }
    static const char *const bases[] = {"container", "container-slim"};
    for (size_t b = 0; b < 2; b++) {
        int present = 0;
        for (size_t k = 0; k < nrt; k++)
            present |= same(rts[k], bases[b]);
        if (!present) continue;
        for (size_t k = 0; k < nrt; k++) {
            if (!lm__report_is_wasm(rts[k])) continue;
            text t = {0};
            double lo = INFINITY, hi = -INFINITY;
            const char *lof = NULL, *hif = NULL, *kind = NULL, *bkind = NULL;
            size_t m = 0;
            for (size_t f = 0; f < nfn; f++) {
                const char *ka = NULL, *kb = NULL;
                int64_t wa = lm__report_size(d, fns[f], rts[k], 0, &ka);
                int64_t cb = lm__report_size(d, fns[f], bases[b], 1, &kb);
                if (wa <= 0 || cb <= 0) continue;
                double r = (double)cb / (double)wa;
                kind = ka;
                bkind = kb;
                m++;
                if (r < lo) lo = r, lof = fns[f];
                if (r > hi) hi = r, hif = fns[f];
            }
            if (m == 0) continue;
            lm__finding *fd = new_finding(d, "size", rts[k], bases[b], "all");
            if (!fd) continue;
            fd->supported = 1;
            fd->lo = lo;
            fd->hi = hi;
            char a[32], c[32];
            fmt_ratio(a, sizeof a, lo);
            fmt_ratio(c, sizeof c, hi);
            const char *base_name = b == 0 ? "scratch" : "debian-slim";
            if (lo >= 1)
                tput(&t,
                     "%s's artifacts (%s) are %s (%s) to %s (%s) smaller than %s images on the "
                     "%s base (%s)",
                     rts[k], kind, a, lof, c, hif, bases[b], base_name, bkind);
            else if (hi <= 1)
                tput(&t,
                     "%s's artifacts (%s) are larger than %s images on the %s base (%s): the "
                     "images are %s (%s) to %s (%s) their size",
                     rts[k], kind, bases[b], base_name, bkind, a, lof, c, hif);
            else
                tput(&t,
                     "%s's artifacts (%s) against %s images on the %s base (%s): the images are "
                     "%s (%s) to %s (%s) their size",
                     rts[k], kind, bases[b], base_name, bkind, a, lof, c, hif);
            tput(&t, ", over %zu functions; exact sizes of the files, no sampling error.", m);
            fd->text = t.s;
        }
    }
out:
    free(rts);
    free(fns);
}

/* Where each runtime's p99 leaves the SLO, per function and payload, over
 * the closed loops of its warm cells (and over open-loop rates). */
static void slo_findings(lm_report_doc *d) {
    for (int open = 0; open < 2; open++)
        for (size_t i = 0; i < d->npools; i++) {
            const lm__pool *p = &d->pools[i];
            if (!p->load || strcmp(p->load, open ? "open" : "closed") || !same(p->start, "warm"))
                continue;
            /* The first pool of its function and payload starts the finding. */
            int first = 1;
            for (size_t j = 0; j < i && first; j++) {
                const lm__pool *q = &d->pools[j];
                first = !(same(q->load, p->load) && same(q->start, "warm") &&
                          same(q->function, p->function) && same(q->payload, p->payload));
            }
            if (!first) continue;
            /* How many levels: one level alone says nothing about load. */
            char subject[256];
            snprintf(subject, sizeof subject, "%s%s%s", p->function ? p->function : "?",
                     p->payload ? "/" : "", p->payload ? p->payload : "");
            size_t nrt = 0;
            const char **rts = lm__report_runtimes(d, &nrt);
            if (!rts) continue;
            lm__finding *f = NULL;
            text t = {0};
            int any = 0, left = 0;
            for (size_t r = 0; r < nrt; r++) {
                /* This runtime's levels, in order. */
                size_t lv[256], nl = 0;
                for (size_t j = 0; j < d->npools && nl < 256; j++) {
                    const lm__pool *q = &d->pools[j];
                    if (same(q->load, p->load) && same(q->start, "warm") &&
                        same(q->function, p->function) && same(q->payload, p->payload) &&
                        same(q->runtime, rts[r]) && q->n[LM__E2E] > 0)
                        lv[nl++] = j;
                }
                if (nl < 2) continue;
                for (size_t a = 1; a < nl; a++)
                    for (size_t b = a; b > 0; b--) {
                        const lm__pool *x = &d->pools[lv[b - 1]], *y = &d->pools[lv[b]];
                        double kx = open ? x->rate_rps : (double)x->concurrency;
                        double ky = open ? y->rate_rps : (double)y->concurrency;
                        if (kx <= ky) break;
                        size_t s = lv[b - 1];
                        lv[b - 1] = lv[b];
                        lv[b] = s;
                    }
                if (!f) {
                    f = new_finding(d, "slo", NULL, NULL, subject);
                    if (!f) break;
                    tput(&t, "p99 against the %g ms SLO, %s, %s: ", d->slo_ms, subject,
                         open ? "open-loop rates" : "closed-loop concurrency");
                }
                if (any) tput(&t, "; ");
                any = 1;
                const char *unit = open ? " rps" : "";
                const lm__pool *out = NULL, *over = NULL;
                int bounded = 1;
                for (size_t a = 0; a < nl; a++) {
                    const lm__pool *q = &d->pools[lv[a]];
                    add_pool(f, lv[a]);
                    if (!out && q->ci_p99.j && q->ci_p99.lo > d->slo_ms) out = q;
                    if (!over && q->d[LM__E2E].p99 > d->slo_ms) over = q;
                    if (!(q->ci_p99.k && q->ci_p99.hi <= d->slo_ms)) bounded = 0;
                }
                const lm__pool *last = &d->pools[lv[nl - 1]];
                double kl = open ? last->rate_rps : (double)last->concurrency;
                if (out) {
                    left = 1;
                    tput(&t, "%s leaves it at %g%s (p99 %.3g ms, 95%% interval from %.3g ms)",
                         rts[r], open ? out->rate_rps : (double)out->concurrency, unit,
                         out->d[LM__E2E].p99, out->ci_p99.lo);
                } else if (bounded) {
                    tput(&t, "%s stays within it up to %g%s (p99 %.3g ms, at most %.3g ms)", rts[r],
                         kl, unit, last->d[LM__E2E].p99, last->ci_p99.hi);
                } else if (over) {
                    tput(&t,
                         "%s's p99 is %.3g ms at %g%s, over it, but %zu requests do not bound it "
                         "above the SLO",
                         rts[r], over->d[LM__E2E].p99,
                         open ? over->rate_rps : (double)over->concurrency, unit, over->n[LM__E2E]);
                } else {
                    tput(&t,
                         "%s's p99 stays under it up to %g%s (%.3g ms there), but %zu requests "
                         "are too few to bound p99 (368 are needed at 95%%)",
                         rts[r], kl, unit, last->d[LM__E2E].p99, last->n[LM__E2E]);
                }
            }
            free(rts);
            if (f) {
                tput(&t, ".");
                f->text = t.s;
                f->supported = left;
            } else {
                free(t.s);
            }
        }
}

int lm__report_findings(lm_report_doc *d, char *err) {
    if (d->o.baseline && !has_runtime(d, d->o.baseline)) {
        size_t n = 0;
        const char **rts = lm__report_runtimes(d, &n);
        char list[512] = "";
        size_t k = 0;
        for (size_t i = 0; rts && i < n && k < sizeof list; i++)
            k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", i ? ", " : "", rts[i]);
        free(rts);
        return lm_errf(err, "--baseline %s: no cell ran on it (runtimes in %s: %s)", d->o.baseline,
                       d->o.db, k ? list : "none");
    }
    if (d->o.baseline) {
        d->base_ct = d->base_io = d->o.baseline;
    } else {
        d->base_ct = has_runtime(d, "container") ? "container"
                     : has_runtime(d, "native")  ? "native"
                                                 : NULL;
        d->base_io = has_runtime(d, "native")      ? "native"
                     : has_runtime(d, "container") ? "container"
                                                   : NULL;
    }
    if (!d->base_ct)
        lm__report_note(d, "neither container nor native ran: no ratios (--baseline names one)");
    if (comparisons(d) != LM_OK) return lm_errf(err, "out of memory");
    size_findings(d);
    size_t nrt = 0;
    const char **rts = lm__report_runtimes(d, &nrt);
    static const char *const classes[] = {"compute-bound", "data-bound", "other"};
    for (size_t t = 0; t < sizeof topics / sizeof topics[0]; t++)
        for (size_t r = 0; rts && r < nrt; r++)
            for (size_t c = 0; c < 3; c++)
                ratio_finding(d, &topics[t], rts[r], classes[c]);
    free(rts);
    slo_findings(d);
    return LM_OK;
}
