/* load.c -- a results database read for the model (model.h): every counted,
 * answered request with its spans and parts, in blocks of one
 * function@runtime, start type, payload and load (a cell, its repetitions
 * pooled; outside cells one block per function@runtime and start type). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/internal.h"
#include "results/results.h"

const char *const lm__model_src_names[LM__NSRC] = {"client", "gateway", "instance"};

static const char *const comp_names[LM_MODEL_NCOMP] = {"platform", "cold", "deser",  "io",
                                                       "compute",  "ser",  "client", "e2e"};

const char *lm_model_comp_name(lm_model_comp c) { return comp_names[c]; }

int lm_model_comp_parse(const char *s) {
    for (int c = 0; c < LM_MODEL_NCOMP; c++)
        if (strcmp(s, comp_names[c]) == 0) return c;
    return -1;
}

int lm__model_same(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

double lm__model_value(const lm__model_req *q, lm_model_comp c, int src_e2e, int src_platform) {
    switch (c) {
    case LM_MODEL_PLATFORM: {
        double v = q->span[src_platform];
        if (src_platform == LM__SRC_GATEWAY && isfinite(q->cold_ms)) v -= q->cold_ms;
        for (int k = 0; k < 4; k++)
            v -= q->probe[k];
        return v;
    }
    case LM_MODEL_COLD: return q->cold_ms;
    case LM_MODEL_DESER: return q->probe[0];
    case LM_MODEL_IO: return q->probe[1];
    case LM_MODEL_COMPUTE: return q->probe[2];
    case LM_MODEL_SER: return q->probe[3];
    case LM_MODEL_CLIENT: {
        /* Only when e2e is the client's: what the other parts leave. */
        if (src_e2e != LM__SRC_CLIENT) return NAN;
        double v = q->span[LM__SRC_CLIENT];
        for (int k = LM_MODEL_PLATFORM; k < LM_MODEL_CLIENT; k++) {
            if (!lm__model_in_e2e((lm_model_comp)k, src_e2e, src_platform)) continue;
            double part = lm__model_value(q, (lm_model_comp)k, src_e2e, src_platform);
            if (k == LM_MODEL_COLD && !isfinite(part)) continue; /* warm */
            v -= part;
        }
        return v;
    }
    case LM_MODEL_E2E: return q->span[src_e2e];
    default: return NAN;
    }
}

int lm__model_in_e2e(lm_model_comp c, int src_e2e, int src_platform) {
    switch (c) {
    case LM_MODEL_COLD: return src_platform == LM__SRC_GATEWAY; /* not in the instance span */
    case LM_MODEL_CLIENT: return src_e2e == LM__SRC_CLIENT;
    case LM_MODEL_E2E: return 0;
    default: return 1;
    }
}

/* A cell as read: its id and the strings its blocks are keyed by. */
typedef struct {
    int64_t id;
    char *function, *runtime, *payload, *load;
    int64_t concurrency;
    double rate_rps;
} cell;

typedef struct {
    lm_model *m;
    char *err;
    cell *cells;
    size_t ncells, capcells;
    int warmup; /* run.warmup of an old lumos run file, or -1 */
    int64_t *svc_ids, *svc_seen;
    size_t nsvc, capsvc;
} loader;

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static int on_cell(void *arg, const lm_results_cell *c) {
    loader *l = arg;
    if (l->ncells == l->capcells) {
        size_t cap = l->capcells ? 2 * l->capcells : 64;
        cell *p = realloc(l->cells, cap * sizeof *p);
        if (!p) return lm_errf(l->err, "out of memory");
        l->cells = p;
        l->capcells = cap;
    }
    cell *x = &l->cells[l->ncells++];
    x->id = c->id;
    x->function = dup_or_null(c->function);
    x->runtime = dup_or_null(c->runtime);
    x->payload = dup_or_null(c->payload);
    x->load = dup_or_null(c->load);
    x->concurrency = c->concurrency;
    x->rate_rps = c->rate_rps;
    return LM_OK;
}

static const cell *find_cell(const loader *l, int64_t id) {
    size_t lo = 0, hi = l->ncells;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->cells[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < l->ncells && l->cells[lo].id == id ? &l->cells[lo] : NULL;
}

static int same_rate(double a, double b) { return a == b || (isnan(a) && isnan(b)); }

/* The block of (function, runtime, start, payload, load, concurrency,
 * rate), made on first sight; -1 when out of memory. */
static long block_of(loader *l, const char *function, const char *runtime, const char *start,
                     const char *payload, const char *load, int64_t conc, double rate) {
    struct lm__model_data *d = l->m->data;
    for (size_t k = 0; k < d->nblocks; k++) {
        size_t i = (d->last + k) % d->nblocks; /* the previous one first */
        const lm__model_block *b = &d->blocks[i];
        if (lm__model_same(b->function, function) && lm__model_same(b->runtime, runtime) &&
            strcmp(b->start, start) == 0 && lm__model_same(b->payload, payload) &&
            lm__model_same(b->load, load) && b->concurrency == conc && same_rate(b->rate_rps, rate))
            return (long)(d->last = i);
    }
    lm__model_block *p = realloc(d->blocks, (d->nblocks + 1) * sizeof *p);
    if (!p) return -1;
    d->blocks = p;
    lm__model_block *b = &d->blocks[d->nblocks];
    memset(b, 0, sizeof *b);
    b->function = dup_or_null(function);
    b->runtime = dup_or_null(runtime);
    b->start = strdup(start);
    b->payload = dup_or_null(payload);
    b->load = dup_or_null(load);
    b->concurrency = conc;
    b->rate_rps = rate;
    b->nominal = NAN;
    if (payload && function && l->m->size)
        b->nominal = l->m->size(function, payload, &b->nominal_unit);
    if (!isfinite(b->nominal) || b->nominal <= 0) b->nominal = NAN;
    return (long)(d->last = d->nblocks++);
}

/* An old lumos run file's warm-ups (as `lumos results summary` counts
 * them): a service's requests 2 to 1 + run.warmup, by id. */
static int is_warmup(loader *l, int64_t service_id) {
    if (l->warmup <= 0) return 0;
    size_t i = 0;
    while (i < l->nsvc && l->svc_ids[i] != service_id)
        i++;
    if (i == l->nsvc) {
        if (l->nsvc == l->capsvc) {
            size_t cap = l->capsvc ? 2 * l->capsvc : 16;
            int64_t *a = realloc(l->svc_ids, cap * sizeof *a), *b;
            if (!a) return 0;
            l->svc_ids = a;
            if (!(b = realloc(l->svc_seen, cap * sizeof *b))) return 0;
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

static double span(int64_t a, int64_t b) {
    return a == LM_RESULTS_NULL || b == LM_RESULTS_NULL ? NAN : (double)(b - a) / 1e6;
}

static double dur(int64_t v) { return v == LM_RESULTS_NULL ? NAN : (double)v / 1e6; }

/* The part of its instance's start a cold request waited for: from the
 * later of its ingress and the instance's start decision (READY less
 * placement and start-up) to READY; without READY's time, the instance's
 * placement and start-up; without those, cold_begin_ns to cold_ready_ns. */
static double cold_part(const lm_results_request_view *v) {
    const lm_results_request *q = &v->q;
    if (q->cold != 1) return NAN;
    double whole = v->placement_ms + v->cold_start_ms;
    if (q->cold_ready_ns != LM_RESULTS_NULL && isfinite(whole)) {
        double start = (double)q->cold_ready_ns - whole * 1e6;
        if (q->ingress_ns != LM_RESULTS_NULL && (double)q->ingress_ns > start)
            start = (double)q->ingress_ns;
        double ms = ((double)q->cold_ready_ns - start) / 1e6;
        return ms > 0 ? ms : 0;
    }
    if (isfinite(whole)) return whole;
    return span(q->cold_begin_ns, q->cold_ready_ns);
}

static int on_request(void *arg, const lm_results_request_view *v) {
    loader *l = arg;
    lm_model *m = l->m;
    struct lm__model_data *d = m->data;
    const lm_results_request *q = &v->q;
    int warmup = !m->by_cell && q->service_id != LM_RESULTS_NULL && is_warmup(l, q->service_id) &&
                 q->cold != 1;
    if (q->excluded || warmup) {
        m->skipped++;
        return LM_OK;
    }
    const cell *c = NULL;
    if (m->by_cell && !(c = q->cell_id == LM_RESULTS_NULL ? NULL : find_cell(l, q->cell_id))) {
        m->unplaced++;
        return LM_OK;
    }
    if (q->status_http < 200 || q->status_http > 299 || q->error) {
        m->skipped++;
        return LM_OK;
    }
    const char *function = c ? c->function : v->function, *runtime = c ? c->runtime : v->runtime;
    if (!function || !runtime) {
        m->unplaced++;
        return LM_OK;
    }
    if (m->function && strcmp(function, m->function) != 0) return LM_OK;
    if (m->runtime && strcmp(runtime, m->runtime) != 0) return LM_OK;
    const char *start = q->cold == 1 ? "cold" : q->cold == 0 ? "warm" : "unknown";
    long b =
        c ? block_of(l, function, runtime, start, c->payload, c->load, c->concurrency, c->rate_rps)
          : block_of(l, function, runtime, start, NULL, NULL, LM__MODEL_NONE, NAN);
    if (b < 0) return lm_errf(l->err, "out of memory");
    if (d->nreq == d->capreq) {
        size_t cap = d->capreq ? 2 * d->capreq : 1024;
        lm__model_req *p = realloc(d->req, cap * sizeof *p);
        if (!p) return lm_errf(l->err, "out of memory");
        d->req = p;
        d->capreq = cap;
    }
    lm__model_block *blk = &d->blocks[b];
    if (blk->n == blk->cap) {
        size_t cap = blk->cap ? 2 * blk->cap : 32;
        size_t *p = realloc(blk->rows, cap * sizeof *p);
        if (!p) return lm_errf(l->err, "out of memory");
        blk->rows = p;
        blk->cap = cap;
    }
    blk->rows[blk->n++] = d->nreq;
    lm__model_req *r = &d->req[d->nreq++];
    r->block = (int32_t)b;
    r->io_bytes = q->io_read_bytes == LM_RESULTS_NULL && q->io_write_bytes == LM_RESULTS_NULL
                      ? NAN
                      : (double)(q->io_read_bytes == LM_RESULTS_NULL ? 0 : q->io_read_bytes) +
                            (double)(q->io_write_bytes == LM_RESULTS_NULL ? 0 : q->io_write_bytes);
    r->span[LM__SRC_CLIENT] = span(q->intended_send_ns, q->receive_ns);
    r->span[LM__SRC_GATEWAY] = span(q->ingress_ns, q->response_ns);
    r->span[LM__SRC_INSTANCE] = span(q->dispatch_ns, q->result_ns);
    r->cold_ms = cold_part(v);
    r->probe[0] = dur(q->deser_ns);
    r->probe[1] = dur(q->io_ns);
    r->probe[2] = dur(q->compute_ns);
    r->probe[3] = dur(q->ser_ns);
    m->nrequests++;
    return LM_OK;
}

int lm_model_load(lm_model *m, char *err) {
    if (!(m->data = calloc(1, sizeof *m->data))) return lm_errf(err, "out of memory");
    lm_results_reader *r = lm_results_reader_open(m->db, err);
    if (!r) return LM_ERR;
    loader l = {.m = m, .err = err, .warmup = -1};
    int rc = LM_ERR;
    m->version = lm_results_reader_version(r);
    if (lm_results_reader_cells(r, on_cell, &l, err) != LM_OK) goto out;
    m->by_cell = l.ncells > 0;
    char w[32];
    if (!m->by_cell && lm_results_reader_meta(r, "run.warmup", w, sizeof w) == LM_OK)
        l.warmup = atoi(w);
    if (lm_results_reader_requests(r, on_request, &l, err) != LM_OK) goto out;
    if (m->nrequests == 0) {
        if (m->function || m->runtime)
            lm_errf(err, "%s holds no answered request of %s%s%s: nothing to model", m->db,
                    m->function ? m->function : "any function", m->runtime ? " on " : "",
                    m->runtime ? m->runtime : "");
        else
            lm_errf(err, "%s holds no answered request%s: nothing to model", m->db,
                    m->skipped ? " that counts (all failed or were excluded)" : "");
        goto out;
    }
    rc = LM_OK;
out:
    for (size_t i = 0; i < l.ncells; i++) {
        free(l.cells[i].function), free(l.cells[i].runtime);
        free(l.cells[i].payload), free(l.cells[i].load);
    }
    free(l.cells);
    free(l.svc_ids);
    free(l.svc_seen);
    lm_results_reader_close(r);
    return rc;
}

void lm_model_free(lm_model *m) {
    if (!m) return;
    for (size_t i = 0; i < m->nseries; i++) {
        lm_model_series *s = &m->series[i];
        free(s->rows), free(s->x), free(s->levels), free(s->at), free(s->first);
    }
    free(m->series);
    m->series = NULL;
    m->nseries = 0;
    struct lm__model_data *d = m->data;
    if (d) {
        for (size_t i = 0; i < d->nblocks; i++) {
            lm__model_block *b = &d->blocks[i];
            free(b->function), free(b->runtime), free(b->start), free(b->payload), free(b->load);
            free(b->rows);
        }
        free(d->blocks);
        free(d->req);
        free(d);
    }
    m->data = NULL;
}
