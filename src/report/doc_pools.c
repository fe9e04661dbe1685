/* doc_pools.c -- the report's pools (internal.h): the groups of a file
 * that differ only in their repetition, with their values pooled and
 * described, their latency parts averaged and their throughput; the
 * workload class of a function; the instances' cold starts and use. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "functions/catalog.h"
#include "report/internal.h"
#include "results/results.h"

static int same(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

static int same_rate(double a, double b) { return a == b || (isnan(a) && isnan(b)); }

const char *lm__report_class(const char *function) {
    const lm_fn_info *f = function ? lm_catalog_find(function) : NULL;
    if (!f || !f->benchmark) return "other";
    if (f->io && strcmp(f->io, "high") == 0) return "data-bound";
    if (f->cpu && strcmp(f->cpu, "high") == 0) return "compute-bound";
    return "other";
}

int lm__report_is_wasm(const char *rt) { return rt && strstr(rt, "wasm") != NULL; }

int lm__report_is_container(const char *rt) {
    return rt && strncmp(rt, "container", 9) == 0 && !strstr(rt, "wasm");
}

void lm__report_pool_name(const lm__pool *p, char *out, size_t n) {
    char load[64] = "";
    if (p->load && strcmp(p->load, "closed") == 0 && p->concurrency != LM_RESULTS_NULL)
        snprintf(load, sizeof load, "/closed:%lld", (long long)p->concurrency);
    else if (p->load && strcmp(p->load, "open") == 0 && !isnan(p->rate_rps))
        snprintf(load, sizeof load, "/open:%grps", p->rate_rps);
    else if (p->load)
        snprintf(load, sizeof load, "/%s", p->load);
    char env[160] = "";
    if (p->node) snprintf(env, sizeof env, "/node:%s", p->node);
    if (p->network) snprintf(env + strlen(env), sizeof env - strlen(env), "/net:%s", p->network);
    snprintf(out, n, "%s@%s%s%s/%s%s%s", p->function ? p->function : "?",
             p->runtime ? p->runtime : "?", p->payload ? "/" : "", p->payload ? p->payload : "",
             p->start ? p->start : "?", load, env);
}

long lm__report_twin(const lm_report_doc *d, const lm__pool *p, const char *runtime) {
    for (size_t i = 0; i < d->npools; i++) {
        const lm__pool *q = &d->pools[i];
        if (same(q->runtime, runtime) && same(q->function, p->function) &&
            same(q->payload, p->payload) && same(q->start, p->start) && same(q->load, p->load) &&
            same(q->node, p->node) && same(q->network, p->network) &&
            q->concurrency == p->concurrency && same_rate(q->rate_rps, p->rate_rps))
            return (long)i;
    }
    return -1;
}

const char **lm__report_runtimes(const lm_report_doc *d, size_t *n) {
    const char **r = calloc(d->npools + 1, sizeof *r);
    *n = 0;
    if (!r) return NULL;
    for (size_t i = 0; i < d->npools; i++) {
        const char *rt = d->pools[i].runtime;
        size_t k = 0;
        while (k < *n && !same(r[k], rt))
            k++;
        if (k == *n && rt) r[(*n)++] = rt;
    }
    return r;
}

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The pool's values of metric m: the one group's own (sorted by its
 * description), or the members' merged and sorted. */
static int pool_values(lm_report_doc *d, lm__pool *p, int m) {
    lm_report_summary *s = &d->sum[m];
    if (p->ng == 1) {
        p->x[m] = s->groups[p->g[0]].x;
        p->n[m] = s->groups[p->g[0]].n;
        return LM_OK;
    }
    size_t n = 0;
    for (size_t i = 0; i < p->ng; i++)
        n += s->groups[p->g[i]].n;
    p->x[m] = malloc((n ? n : 1) * sizeof(double));
    if (!p->x[m]) return LM_ERR;
    p->owned[m] = 1;
    n = 0;
    for (size_t i = 0; i < p->ng; i++) {
        const lm_report_group *g = &s->groups[p->g[i]];
        if (g->n) memcpy(p->x[m] + n, g->x, g->n * sizeof(double));
        n += g->n;
    }
    qsort(p->x[m], n, sizeof(double), cmp_dbl);
    p->n[m] = n;
    return LM_OK;
}

/* The group's extras (lm__gx) by its index in the sorted groups. */
static lm__gx *gx_of(lm_report_doc *d, size_t g) {
    long pi = d->sum[LM__E2E].groups[g].pass_index;
    return pi >= 0 && (size_t)pi < d->ngx ? &d->gx[pi] : NULL;
}

static int describe_pool(lm_report_doc *d, lm__pool *p, char *err) {
    for (int m = 0; m < LM__NMETRIC; m++) {
        if (pool_values(d, p, m) != LM_OK) return lm_errf(err, "out of memory");
        if (lm_stats_describe(p->x[m], p->n[m], &p->d[m], err) != LM_OK ||
            lm_stats_ci_median(p->x[m], p->n[m], 0.95, &p->ci[m], err) != LM_OK)
            return LM_ERR;
    }
    if (p->n[LM__E2E] &&
        lm_stats_ci_quantile(p->x[LM__E2E], p->n[LM__E2E], 0.99, 0.95, &p->ci_p99, err) != LM_OK)
        return LM_ERR;
    const lm_report_group *g0 = &d->sum[LM__E2E].groups[p->g[0]];
    p->e2e_source = g0->source_name;
    double sum[LM__NPART] = {0}, secs = 0;
    size_t n = 0, answered = 0;
    for (size_t i = 0; i < p->ng; i++) {
        const lm_report_group *g = &d->sum[LM__E2E].groups[p->g[i]];
        lm__gx *x = gx_of(d, p->g[i]);
        if (!x) continue;
        if (g->n) {
            int k = g->source;
            for (int j = 0; j < LM__NPART; j++)
                sum[j] += x->part_sum[k][j];
            n += x->part_n[k];
        }
        if (x->first_ns != LM_RESULTS_NULL && x->last_ns > x->first_ns) {
            secs += (double)(x->last_ns - x->first_ns) / 1e9;
            answered += g->ok;
        }
        if (!p->first_error && x->first_error[0]) p->first_error = x->first_error;
        p->trace |= x->trace;
    }
    p->part_n = n;
    for (int j = 0; j < LM__NPART; j++)
        p->part_mean[j] = n ? sum[j] / (double)n : NAN;
    p->throughput_rps = secs > 0 ? (double)answered / secs : NAN;
    return LM_OK;
}

static int add_member(lm__pool *p, size_t g) {
    size_t *m = realloc(p->g, (p->ng + 1) * sizeof *m);
    if (!m) return LM_ERR;
    p->g = m;
    p->g[p->ng++] = g;
    return LM_OK;
}

int lm__report_pools(lm_report_doc *d, char *err) {
    for (int m = 0; m < LM__NMETRIC; m++) {
        d->sum[m].no_ratios = 1;
        if (lm_report_summary_compute(&d->sum[m], err) != LM_OK) return LM_ERR;
    }
    lm_report_summary *s = &d->sum[LM__E2E];
    d->pools = calloc(s->ngroups ? s->ngroups : 1, sizeof *d->pools);
    if (!d->pools) return lm_errf(err, "out of memory");
    for (size_t i = 0; i < s->ngroups; i++) {
        const lm_report_group *g = &s->groups[i];
        lm__pool key = {.function = g->function,
                        .runtime = g->runtime,
                        .payload = g->payload,
                        .start = g->start,
                        .load = g->load,
                        .node = g->node,
                        .network = g->network,
                        .concurrency = g->concurrency,
                        .rate_rps = g->rate_rps};
        long t = lm__report_twin(d, &key, g->runtime);
        lm__pool *p;
        if (t >= 0) {
            p = &d->pools[t];
        } else {
            p = &d->pools[d->npools++];
            *p = key;
            p->base = !g->load || (strcmp(g->load, "closed") == 0 && g->concurrency == 1);
            p->cls = lm__report_class(g->function);
        }
        if (add_member(p, i) != LM_OK) return lm_errf(err, "out of memory");
        p->count += g->count;
        p->errors += g->errors;
        p->excluded += g->excluded;
        p->ok += g->ok;
    }
    for (size_t i = 0; i < d->npools; i++) {
        if (d->o.progress)
            fprintf(stderr, "\rlumos report: statistics of cell %zu of %zu", i + 1, d->npools);
        if (describe_pool(d, &d->pools[i], err) != LM_OK) return LM_ERR;
    }
    if (d->o.progress && d->npools) fputs("\r\033[K", stderr);
    return LM_OK;
}

static double *collect_inst(const lm_report_doc *d, const char *function, const char *runtime,
                            int which, size_t *n) {
    double *v = malloc((d->ninst ? d->ninst : 1) * sizeof *v);
    *n = 0;
    if (!v) return NULL;
    for (size_t i = 0; i < d->ninst; i++) {
        const lm__inst *in = &d->inst[i];
        const lm__service *s = lm__report_service(d, in->service_id);
        if (!s || !same(s->function, function) || !same(s->runtime, runtime)) continue;
        double x = which == 0 ? in->cold_ms : which == 1 ? in->cpu_ms : in->mem_peak;
        if (which != 0 && in->requests == 0) continue;
        if (!isnan(x)) v[(*n)++] = x;
    }
    if (*n == 0) {
        free(v);
        return NULL;
    }
    qsort(v, *n, sizeof *v, cmp_dbl);
    return v;
}

double *lm__report_cold_values(const lm_report_doc *d, const char *function, const char *runtime,
                               size_t *n) {
    return collect_inst(d, function, runtime, 0, n);
}

double *lm__report_inst_values(const lm_report_doc *d, const char *function, const char *runtime,
                               int which, size_t *n) {
    return collect_inst(d, function, runtime, which ? 2 : 1, n);
}
