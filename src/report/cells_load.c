/* cells_load.c -- a results database read into
 * groups of requests (cells.h), each request counted, excluded
 * or failed, and the metric's values of the ones that answered. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/cells.h"
#include "results/results.h"

static const struct {
    const char *name, *unit;
} metrics[LM_REPORT_M_COUNT] = {
    [LM_REPORT_M_E2E] = {"e2e", "ms"},
    [LM_REPORT_M_GATEWAY] = {"gateway", "ms"},
    [LM_REPORT_M_INSTANCE] = {"instance", "ms"},
    [LM_REPORT_M_COMPUTE] = {"compute", "ms"},
    [LM_REPORT_M_IO] = {"io", "ms"},
    [LM_REPORT_M_DESER] = {"deser", "ms"},
    [LM_REPORT_M_SER] = {"ser", "ms"},
    [LM_REPORT_M_CPU] = {"cpu", "ms"},
    [LM_REPORT_M_MEM] = {"mem", "bytes"},
};

const char *lm_report_metric_name(lm_report_metric m) { return metrics[m].name; }
const char *lm_report_metric_unit(lm_report_metric m) { return metrics[m].unit; }

int lm_report_metric_parse(const char *s) {
    for (int m = 0; m < LM_REPORT_M_COUNT; m++)
        if (strcmp(s, metrics[m].name) == 0) return m;
    return -1;
}

static int vec_push(lm_report_vec *v, double x) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 64;
        double *p = realloc(v->v, cap * sizeof *p);
        if (!p) return LM_ERR;
        v->v = p;
        v->cap = cap;
    }
    v->v[v->n++] = x;
    return LM_OK;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

/* The summaries filled in one pass; s points at the one a callback is
 * for (on_cell, group_of), all[0..nall) are all of them. */
typedef struct {
    lm_report_summary *s;
    lm_report_summary *all;
    size_t nall;
    lm_report_row_fn fn;
    void *arg;
    char *err;
    int warmup;        /* run.warmup of an old lumos run file, or -1 */
    int64_t *svc_seen; /* per service id seen: how many of its requests so far */
    int64_t *svc_ids;
    size_t nsvc, capsvc;
    size_t *last; /* per summary: the group of the previous request (a cache) */
} loader;

static lm_report_group *add_group(lm_report_summary *s) {
    lm_report_group *g = realloc(s->groups, (s->ngroups + 1) * sizeof *g);
    if (!g) return NULL;
    s->groups = g;
    g = &s->groups[s->ngroups++];
    memset(g, 0, sizeof *g);
    g->cell_id = g->service_id = g->concurrency = g->repetition = LM_RESULTS_NULL;
    g->rate_rps = NAN;
    g->pass_index = (long)s->ngroups - 1;
    return g;
}

static int on_cell(void *arg, const lm_results_cell *c) {
    loader *l = arg;
    lm_report_group *g = add_group(l->s);
    if (!g) return lm_errf(l->err, "out of memory");
    g->cell_id = c->id;
    g->service_id = c->service_id;
    g->name = dup_or_null(c->name);
    g->function = dup_or_null(c->function);
    g->runtime = dup_or_null(c->runtime);
    g->payload = dup_or_null(c->payload);
    g->start = dup_or_null(c->start);
    g->load = dup_or_null(c->load);
    g->status = dup_or_null(c->status);
    g->node = dup_or_null(c->node);
    g->network = dup_or_null(c->network);
    g->concurrency = c->concurrency;
    g->rate_rps = c->rate_rps;
    g->repetition = c->repetition;
    if (!g->name) {
        char b[32];
        snprintf(b, sizeof b, "cell %lld", (long long)c->id);
        g->name = strdup(b);
    }
    return LM_OK;
}

/* The group of a request, by cell (cells are in id order) or by service
 * and start type (created on first sight); NULL when it has none. */
static lm_report_group *group_of(loader *l, size_t k, const lm_results_request_view *v) {
    lm_report_summary *s = &l->all[k];
    size_t *last = &l->last[k];
    const lm_results_request *q = &v->q;
    if (s->by_cell) {
        if (q->cell_id == LM_RESULTS_NULL) return NULL;
        size_t lo = 0, hi = s->ngroups;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (s->groups[mid].cell_id < q->cell_id)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo < s->ngroups && s->groups[lo].cell_id == q->cell_id ? &s->groups[lo] : NULL;
    }
    if (q->service_id == LM_RESULTS_NULL) return NULL;
    const char *start = q->cold == 1 ? "cold" : q->cold == 0 ? "warm" : "unknown";
    if (*last < s->ngroups && s->groups[*last].service_id == q->service_id &&
        strcmp(s->groups[*last].start, start) == 0)
        return &s->groups[*last];
    for (size_t i = 0; i < s->ngroups; i++)
        if (s->groups[i].service_id == q->service_id && strcmp(s->groups[i].start, start) == 0)
            return &s->groups[*last = i];
    lm_report_group *g = add_group(s);
    if (!g) return NULL;
    *last = s->ngroups - 1;
    g->service_id = q->service_id;
    g->function = dup_or_null(v->function);
    g->runtime = dup_or_null(v->runtime);
    g->start = strdup(start);
    char b[256];
    if (v->function && v->runtime)
        snprintf(b, sizeof b, "%s@%s", v->function, v->runtime);
    else
        snprintf(b, sizeof b, "service %lld", (long long)q->service_id);
    g->name = strdup(b);
    return g;
}

/* An old lumos run file's warm-ups: its requests 2 to 1 + run.warmup of
 * each service, by id (docs/results.md, as `lumos report` counts them).
 * Counts the request; 1 when it is in that range. */
static int is_warmup(loader *l, int64_t service_id) {
    if (l->warmup <= 0) return 0;
    size_t i = 0;
    while (i < l->nsvc && l->svc_ids[i] != service_id)
        i++;
    if (i == l->nsvc) {
        if (l->nsvc == l->capsvc) {
            size_t cap = l->capsvc ? 2 * l->capsvc : 16;
            int64_t *a = realloc(l->svc_ids, cap * sizeof *a);
            if (!a) return 0;
            l->svc_ids = a;
            int64_t *b = realloc(l->svc_seen, cap * sizeof *b);
            if (!b) return 0;
            l->svc_seen = b;
            l->capsvc = cap;
        }
        l->svc_ids[i] = service_id;
        l->svc_seen[i] = 0;
        l->nsvc++;
    }
    int64_t k = ++l->svc_seen[i];
    return k >= 2 && k <= 1 + l->warmup;
}

/* b - a in milliseconds, when both were measured. */
static int span_ms(int64_t a, int64_t b, double *out) {
    if (a == LM_RESULTS_NULL || b == LM_RESULTS_NULL) return 0;
    *out = (double)(b - a) / 1e6;
    return 1;
}

static int measured(int64_t v, double scale, double *out) {
    if (v == LM_RESULTS_NULL) return 0;
    *out = (double)v / scale;
    return 1;
}

/* The metric's values of one answered request, into g->src. */
static int add_values(lm_report_group *g, lm_report_metric m, const lm_results_request *q) {
    double x;
    int rc = LM_OK;
    switch (m) {
    case LM_REPORT_M_E2E:
        if (span_ms(q->intended_send_ns, q->receive_ns, &x))
            rc |= vec_push(&g->src[LM_REPORT_SRC_CLIENT], x);
        if (span_ms(q->ingress_ns, q->response_ns, &x))
            rc |= vec_push(&g->src[LM_REPORT_SRC_GATEWAY], x);
        if (span_ms(q->dispatch_ns, q->result_ns, &x))
            rc |= vec_push(&g->src[LM_REPORT_SRC_INSTANCE], x);
        return rc;
    case LM_REPORT_M_GATEWAY:
        return span_ms(q->ingress_ns, q->response_ns, &x) ? vec_push(g->src, x) : 0;
    case LM_REPORT_M_INSTANCE:
        return span_ms(q->dispatch_ns, q->result_ns, &x) ? vec_push(g->src, x) : 0;
    case LM_REPORT_M_COMPUTE: return measured(q->compute_ns, 1e6, &x) ? vec_push(g->src, x) : 0;
    case LM_REPORT_M_IO: return measured(q->io_ns, 1e6, &x) ? vec_push(g->src, x) : 0;
    case LM_REPORT_M_DESER: return measured(q->deser_ns, 1e6, &x) ? vec_push(g->src, x) : 0;
    case LM_REPORT_M_SER: return measured(q->ser_ns, 1e6, &x) ? vec_push(g->src, x) : 0;
    case LM_REPORT_M_CPU: return measured(q->cpu_ns, 1e6, &x) ? vec_push(g->src, x) : 0;
    case LM_REPORT_M_MEM: return measured(q->mem_peak_bytes, 1, &x) ? vec_push(g->src, x) : 0;
    default: return LM_OK;
    }
}

static int on_request(void *arg, const lm_results_request_view *v) {
    loader *l = arg;
    const lm_results_request *q = &v->q;
    /* The warm-up count runs over every request of a service, in id order;
     * a cold one is cold wherever it is (as `lumos report` has it). */
    int by_cell = l->all[0].by_cell;
    int warmup =
        !by_cell && q->service_id != LM_RESULTS_NULL && is_warmup(l, q->service_id) && q->cold != 1;
    long index = -1;
    int counted = 0;
    for (size_t k = 0; k < l->nall; k++) {
        lm_report_summary *s = &l->all[k];
        lm_report_group *g = group_of(l, k, v);
        if (!g) {
            if (!by_cell && q->service_id != LM_RESULTS_NULL)
                return lm_errf(l->err, "out of memory");
            s->unassigned++;
            continue;
        }
        if (k == 0) index = g->pass_index;
        if (q->excluded || warmup) {
            g->excluded++;
            s->warmups += warmup && !q->excluded;
            continue;
        }
        counted = 1;
        g->count++;
        if (q->status_http < 200 || q->status_http > 299 || q->error) {
            g->errors++;
            continue;
        }
        g->ok++;
        if (add_values(g, s->metric, q) != LM_OK) return lm_errf(l->err, "out of memory");
    }
    return l->fn ? l->fn(l->arg, v, index, counted) : LM_OK;
}

static int by_service_start(const void *a, const void *b) {
    const lm_report_group *x = a, *y = b;
    if (x->service_id != y->service_id) return x->service_id < y->service_id ? -1 : 1;
    return strcmp(x->start, y->start); /* cold, unknown, warm */
}

int lm_report_summaries_load(lm_report_summary *all, size_t n, lm_report_row_fn fn, void *arg,
                             char *err) {
    if (n == 0) return lm_errf(err, "lm_report_summaries_load: no summary to fill");
    lm_results_reader *r = lm_results_reader_open(all[0].db, err);
    if (!r) return LM_ERR;
    loader l = {.all = all, .nall = n, .fn = fn, .arg = arg, .err = err, .warmup = -1};
    int rc = LM_ERR;
    if (!(l.last = calloc(n, sizeof *l.last))) {
        lm_errf(err, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < n; k++) {
        lm_report_summary *s = &all[k];
        l.s = s;
        s->version = lm_results_reader_version(r);
        if (k > 0) s->by_cell = all[0].by_cell;
        if (s->by_cell != 0) {
            if (lm_results_reader_cells(r, on_cell, &l, err) != LM_OK) goto out;
            if (s->by_cell == 1 && s->ngroups == 0) {
                lm_errf(err, "%s has no cells (%s): use --by service", s->db,
                        s->version < 3 ? "its schema predates them" : "its cells table is empty");
                goto out;
            }
            s->by_cell = s->ngroups > 0;
        }
    }
    char w[32];
    if (!all[0].by_cell && all[0].ngroups == 0 &&
        lm_results_reader_meta(r, "run.warmup", w, sizeof w) == LM_OK)
        l.warmup = atoi(w);
    if (lm_results_reader_requests(r, on_request, &l, err) != LM_OK) goto out;
    if (!all[0].by_cell)
        for (size_t k = 0; k < n; k++)
            if (all[k].ngroups > 1) /* qsort of NULL is undefined, even of 0 items */
                qsort(all[k].groups, all[k].ngroups, sizeof *all[k].groups, by_service_start);
    rc = LM_OK;
out:
    free(l.svc_ids);
    free(l.svc_seen);
    free(l.last);
    lm_results_reader_close(r);
    return rc;
}

int lm_report_summary_load(lm_report_summary *s, char *err) {
    return lm_report_summaries_load(s, 1, NULL, NULL, err);
}

void lm_report_summary_free(lm_report_summary *s) {
    if (!s) return;
    for (size_t i = 0; i < s->ngroups; i++) {
        lm_report_group *g = &s->groups[i];
        free(g->name), free(g->function), free(g->runtime), free(g->payload);
        free(g->start), free(g->load), free(g->status);
        free(g->node), free(g->network);
        for (int k = 0; k < LM_REPORT_SRC_COUNT; k++)
            free(g->src[k].v);
    }
    free(s->groups);
    free(s->ratios);
    s->groups = NULL;
    s->ratios = NULL;
    s->ngroups = s->nratios = 0;
}
