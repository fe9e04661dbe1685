/* doc_read.c -- a results database read for the report (doc.h): the
 * summaries of every metric and, in the same pass over the requests, each
 * group's latency parts, times and trace timeline, each instance's use,
 * and the raw rows into DIR/rows/ (one CSV per cell); then the small
 * tables (meta, services, instances with their cold-start phases,
 * artifacts, events). */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "report/internal.h"
#include "results/results.h"
#include "util/csv.h"
#include "util/hash.h"

const lm_report_metric lm__report_metrics[LM__NMETRIC] = {
    LM_REPORT_M_E2E, LM_REPORT_M_COMPUTE, LM_REPORT_M_IO,  LM_REPORT_M_DESER,
    LM_REPORT_M_SER, LM_REPORT_M_CPU,     LM_REPORT_M_MEM,
};

const char *const lm__report_part_names[LM__NPART] = {
    "client", "platform", "queue", "cold", "deser", "io", "compute", "ser",
};

void lm__report_note(lm_report_doc *d, const char *fmt, ...) {
    char b[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    char **n = realloc(d->notes, (d->nnotes + 1) * sizeof *n);
    if (!n) return;
    d->notes = n;
    if ((n[d->nnotes] = strdup(b))) d->nnotes++;
}

const char *lm__report_meta(const lm_report_doc *d, const char *key) {
    for (size_t i = 0; i < d->nmeta; i++)
        if (strcmp(d->meta[i].key, key) == 0) return d->meta[i].value;
    return NULL;
}

const lm__service *lm__report_service(const lm_report_doc *d, int64_t id) {
    for (size_t i = 0; i < d->nsvc; i++)
        if (d->svc[i].id == id) return &d->svc[i];
    return NULL;
}

static char *dup(const char *s) { return s ? strdup(s) : NULL; }

static int64_t to_i64(const char *s) { return s ? strtoll(s, NULL, 10) : LM_RESULTS_NULL; }
static double to_dbl(const char *s) { return s ? strtod(s, NULL) : NAN; }

/* ---- the small tables ---- */

static int col(int n, const char *const *names, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0) return i;
    return -1;
}

static const char *val(int n, const char *const *names, const char *const *v, const char *name) {
    int c = col(n, names, name);
    return c < 0 ? NULL : v[c];
}

static int on_meta(void *arg, int n, const char *const *names, const char *const *v) {
    lm_report_doc *d = arg;
    const char *k = val(n, names, v, "key");
    if (!k) return LM_OK;
    lm__kv *m = realloc(d->meta, (d->nmeta + 1) * sizeof *m);
    if (!m) return lm_errf(d->err, "out of memory");
    d->meta = m;
    m[d->nmeta].key = dup(k);
    m[d->nmeta].value = dup(val(n, names, v, "value") ? val(n, names, v, "value") : "");
    d->nmeta++;
    return LM_OK;
}

static int on_service(void *arg, int n, const char *const *names, const char *const *v) {
    lm_report_doc *d = arg;
    lm__service *s = realloc(d->svc, (d->nsvc + 1) * sizeof *s);
    if (!s) return lm_errf(d->err, "out of memory");
    d->svc = s;
    s += d->nsvc++;
    s->id = to_i64(val(n, names, v, "id"));
    s->name = dup(val(n, names, v, "name"));
    s->function = dup(val(n, names, v, "function"));
    s->runtime = dup(val(n, names, v, "runtime"));
    return LM_OK;
}

static int on_artifact(void *arg, int n, const char *const *names, const char *const *v) {
    lm_report_doc *d = arg;
    lm__artifact *a = realloc(d->art, (d->nart + 1) * sizeof *a);
    if (!a) return lm_errf(d->err, "out of memory");
    d->art = a;
    a += d->nart++;
    a->function = dup(val(n, names, v, "function"));
    a->runtime = dup(val(n, names, v, "runtime"));
    a->kind = dup(val(n, names, v, "kind"));
    a->path = dup(val(n, names, v, "path"));
    a->bytes = to_i64(val(n, names, v, "bytes"));
    return LM_OK;
}

static int on_event(void *arg, int n, const char *const *names, const char *const *v) {
    lm_report_doc *d = arg;
    lm__event *e = realloc(d->ev, (d->nev + 1) * sizeof *e);
    if (!e) return lm_errf(d->err, "out of memory");
    d->ev = e;
    e += d->nev++;
    e->t_ns = to_i64(val(n, names, v, "t_ns"));
    e->service_id = to_i64(val(n, names, v, "service_id"));
    e->kind = dup(val(n, names, v, "kind"));
    e->instance_id = dup(val(n, names, v, "instance_id"));
    e->detail = dup(val(n, names, v, "detail_json"));
    return LM_OK;
}

/* The phase columns are found by name (phase_<name>_ns, schema 4); a file
 * without them has the cold start in two parts: placement, and the
 * runtime's exec to READY. */
static int phase_columns(lm_report_doc *d, int n, const char *const *names) {
    for (int i = 0; i < n; i++) {
        size_t l = strlen(names[i]);
        if (l > 9 && strncmp(names[i], "phase_", 6) == 0 && strcmp(names[i] + l - 3, "_ns") == 0) {
            char **p = realloc(d->phase_names, (d->nphase + 1) * sizeof *p);
            if (!p) return LM_ERR;
            d->phase_names = p;
            if (!(p[d->nphase] = strndup(names[i] + 6, l - 9))) return LM_ERR;
            d->nphase++;
        }
    }
    d->phases_measured = d->nphase > 0;
    if (!d->phases_measured) {
        d->phase_names = calloc(2, sizeof *d->phase_names);
        if (!d->phase_names) return LM_ERR;
        d->phase_names[0] = strdup("placement");
        d->phase_names[1] = strdup("exec to READY");
        d->nphase = 2;
    }
    return LM_OK;
}

static int on_instance(void *arg, int n, const char *const *names, const char *const *v) {
    lm_report_doc *d = arg;
    if (!d->phase_names && phase_columns(d, n, names) != LM_OK)
        return lm_errf(d->err, "out of memory");
    lm__inst *in = realloc(d->inst, (d->ninst + 1) * sizeof *in);
    if (!in) return lm_errf(d->err, "out of memory");
    d->inst = in;
    in += d->ninst++;
    memset(in, 0, sizeof *in);
    in->id = dup(val(n, names, v, "id"));
    in->runtime = dup(val(n, names, v, "runtime"));
    in->service_id = to_i64(val(n, names, v, "service_id"));
    in->start_ns = to_i64(val(n, names, v, "start_ns"));
    in->phase_ms = calloc(d->nphase, sizeof *in->phase_ms);
    if (!in->id || !in->phase_ms) return lm_errf(d->err, "out of memory");
    double place = to_dbl(val(n, names, v, "placement_ms"));
    double start = to_dbl(val(n, names, v, "cold_start_ms"));
    in->cold_ms = isnan(start) ? NAN : (isnan(place) ? 0 : place) + start;
    if (d->phases_measured) {
        double sum = 0;
        int any = 0;
        for (size_t p = 0; p < d->nphase; p++) {
            char c[160];
            snprintf(c, sizeof c, "phase_%s_ns", d->phase_names[p]);
            const char *s = val(n, names, v, c);
            /* -1 and NULL are "unknown" (runtime.h's lm_cold_phases). */
            double x = s ? strtod(s, NULL) : -1;
            in->phase_ms[p] = x < 0 ? NAN : x / 1e6;
            if (x >= 0) sum += x / 1e6, any = 1;
        }
        if (isnan(in->cold_ms) && any) in->cold_ms = sum;
    } else {
        in->phase_ms[0] = isnan(start) ? NAN : isnan(place) ? 0 : place;
        in->phase_ms[1] = start;
    }
    in->mem_peak = NAN;
    return LM_OK;
}

/* ---- the raw rows, one file per group ---- */

#define ROWFILES_OPEN 32

struct lm__rowfile {
    long gx; /* -1: the rows of no group */
    FILE *f;
    uint64_t used;
};

static const char rows_header[] =
    "id,service_id,instance_id,status_http,cold,intended_send_ns,send_ns,ingress_ns,"
    "queued_ns,acquired_ns,cold_begin_ns,cold_ready_ns,dispatch_ns,result_ns,response_ns,"
    "receive_ns,deser_ns,io_ns,compute_ns,ser_ns,func_total_ns,io_read_bytes,io_write_bytes,"
    "io_calls,cpu_user_ns,cpu_system_ns,cpu_ns,mem_peak_bytes,error,cell_id,excluded,counted\n";

typedef struct {
    lm_report_doc *d;
    uint64_t clock;
    long inst_last;
    size_t *inst_hash; /* open addressing: index + 1, 0 empty */
    size_t inst_cap;
    char other_file[32];
    int other_started;
} pass;

/* The open file of group gx (-1: no group), opened (or reopened for
 * appending) when it is not among the open ones, the least recently used
 * one closed to make room. */
static FILE *rowfile(pass *ps, long gx) {
    lm_report_doc *d = ps->d;
    uint64_t now = ++ps->clock;
    size_t lru = 0;
    for (size_t i = 0; i < d->nrf; i++) {
        if (d->rf[i].gx == gx && d->rf[i].f) {
            d->rf[i].used = now;
            return d->rf[i].f;
        }
        if (d->rf[i].used < d->rf[lru].used) lru = i;
    }
    size_t slot;
    if (d->nrf < ROWFILES_OPEN)
        slot = d->nrf++;
    else {
        slot = lru;
        fclose(d->rf[slot].f);
    }
    const char *rel = gx >= 0 ? d->gx[gx].rows_file : ps->other_file;
    int *started = gx >= 0 ? &d->gx[gx].file_started : &ps->other_started;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", d->o.dir, rel);
    FILE *f = fopen(path, *started ? "a" : "w");
    d->rf[slot].f = f;
    d->rf[slot].gx = gx;
    d->rf[slot].used = now;
    if (f && !*started) fputs(rows_header, f);
    *started = 1;
    return f;
}

/* Integers without printf (a million rows of 30 of them). */
static char *put_i64(char *p, int64_t v) {
    if (v == LM_RESULTS_NULL) return p;
    char t[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do
        t[n++] = (char)('0' + u % 10);
    while ((u /= 10));
    if (v < 0) *p++ = '-';
    while (n)
        *p++ = t[--n];
    return p;
}

static void write_row(FILE *f, const lm_results_request_view *v, int counted) {
    const lm_results_request *q = &v->q;
    char b[1024], *p = b;
    const int64_t a[] = {q->id, q->service_id};
    p = put_i64(p, a[0]);
    *p++ = ',';
    p = put_i64(p, a[1]);
    *p++ = ',';
    fwrite(b, 1, (size_t)(p - b), f);
    if (q->instance_id) lm_csv_field(f, q->instance_id, strlen(q->instance_id), LM_CSV_ONE_LINE);
    p = b;
    const int64_t c[] = {
        q->status_http, q->cold,        q->intended_send_ns, q->send_ns,       q->ingress_ns,
        q->queued_ns,   q->acquired_ns, q->cold_begin_ns,    q->cold_ready_ns, q->dispatch_ns,
        q->result_ns,   q->response_ns, q->receive_ns,       q->deser_ns,      q->io_ns,
        q->compute_ns,  q->ser_ns,      q->func_total_ns,    q->io_read_bytes, q->io_write_bytes,
        q->io_calls,    q->cpu_user_ns, q->cpu_system_ns,    q->cpu_ns,        q->mem_peak_bytes};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        *p++ = ',';
        p = put_i64(p, c[i]);
    }
    *p++ = ',';
    fwrite(b, 1, (size_t)(p - b), f);
    if (q->error) lm_csv_field(f, q->error, strlen(q->error), LM_CSV_ONE_LINE | LM_CSV_QUOTE);
    p = b;
    *p++ = ',';
    p = put_i64(p, q->cell_id);
    *p++ = ',';
    fwrite(b, 1, (size_t)(p - b), f);
    if (q->excluded) lm_csv_field(f, q->excluded, strlen(q->excluded), LM_CSV_ONE_LINE);
    fputs(counted ? ",1\n" : ",0\n", f);
}

/* ---- one request ---- */

static size_t inst_slot(const pass *ps, const char *id) {
    uint64_t h = lm_fnv1a64(LM_FNV1A64_INIT, id, strlen(id));
    return (size_t)(h & (ps->inst_cap - 1));
}

static int inst_index(pass *ps) {
    lm_report_doc *d = ps->d;
    ps->inst_cap = 16;
    while (ps->inst_cap < 2 * d->ninst + 16)
        ps->inst_cap *= 2;
    if (!(ps->inst_hash = calloc(ps->inst_cap, sizeof *ps->inst_hash))) return LM_ERR;
    for (size_t i = 0; i < d->ninst; i++) {
        size_t s = inst_slot(ps, d->inst[i].id);
        while (ps->inst_hash[s])
            s = (s + 1) & (ps->inst_cap - 1);
        ps->inst_hash[s] = i + 1;
    }
    return LM_OK;
}

static lm__inst *inst_find(pass *ps, const char *id) {
    lm_report_doc *d = ps->d;
    if (ps->inst_last >= 0 && strcmp(d->inst[ps->inst_last].id, id) == 0)
        return &d->inst[ps->inst_last];
    for (size_t s = inst_slot(ps, id); ps->inst_hash[s]; s = (s + 1) & (ps->inst_cap - 1)) {
        size_t i = ps->inst_hash[s] - 1;
        if (strcmp(d->inst[i].id, id) == 0) {
            ps->inst_last = (long)i;
            return &d->inst[i];
        }
    }
    return NULL;
}

static int known(int64_t v) { return v != LM_RESULTS_NULL; }
static double ms(int64_t a, int64_t b) { return (double)(b - a) / 1e6; }
static double ms_of(int64_t v) { return known(v) ? (double)v / 1e6 : 0; }

/* The parts of an answered counted request, for each source of its
 * end-to-end time it has (cells.h: client, gateway, instance). */
static void add_parts(lm__gx *x, const lm_results_request *q, const lm__inst *in) {
    double gw =
        known(q->ingress_ns) && known(q->response_ns) ? ms(q->ingress_ns, q->response_ns) : NAN;
    /* The cold start a request waited for runs from the later of its
     * ingress and its instance's start to READY: the request is assigned
     * to the starting instance (cold_begin) only once the instance is
     * placed, and the placement before is part of its wait too. */
    double cold = 0;
    if (known(q->cold_ready_ns) && known(q->cold_begin_ns)) {
        int64_t from = q->cold_begin_ns;
        if (in && known(in->start_ns) && in->start_ns < from)
            from =
                known(q->ingress_ns) && q->ingress_ns > in->start_ns ? q->ingress_ns : in->start_ns;
        cold = ms(from, q->cold_ready_ns);
        if (cold < 0) cold = 0;
    }
    double queue = 0;
    if (known(q->queued_ns) && known(q->acquired_ns)) {
        queue = ms(q->queued_ns, q->acquired_ns) - (q->cold == 1 ? cold : 0);
        if (queue < 0) queue = 0;
    }
    double fn[4] = {ms_of(q->deser_ns), ms_of(q->io_ns), ms_of(q->compute_ns), ms_of(q->ser_ns)};
    double e2e[LM_REPORT_SRC_COUNT] = {
        known(q->intended_send_ns) && known(q->receive_ns) ? ms(q->intended_send_ns, q->receive_ns)
                                                           : NAN,
        gw,
        known(q->dispatch_ns) && known(q->result_ns) ? ms(q->dispatch_ns, q->result_ns) : NAN,
    };
    for (int k = 0; k < LM_REPORT_SRC_COUNT; k++) {
        if (isnan(e2e[k])) continue;
        double p[LM__NPART] = {0};
        p[LM__P_CLIENT] = k == LM_REPORT_SRC_CLIENT && !isnan(gw) ? e2e[k] - gw : 0;
        p[LM__P_QUEUE] = k == LM_REPORT_SRC_INSTANCE ? 0 : queue;
        p[LM__P_COLD] = k == LM_REPORT_SRC_INSTANCE ? 0 : cold;
        double rest = e2e[k] - p[LM__P_CLIENT] - p[LM__P_QUEUE] - p[LM__P_COLD];
        for (int i = 0; i < 4; i++) {
            p[LM__P_DESER + i] = fn[i];
            rest -= fn[i];
        }
        p[LM__P_PLATFORM] = rest;
        for (int i = 0; i < LM__NPART; i++)
            x->part_sum[k][i] += p[i];
        x->part_n[k]++;
    }
}

static int64_t first_known(int64_t a, int64_t b, int64_t c) {
    return known(a) ? a : known(b) ? b : c;
}

static int on_row(void *arg, const lm_results_request_view *v, long group, int counted) {
    pass *ps = arg;
    lm_report_doc *d = ps->d;
    const lm_results_request *q = &v->q;
    d->requests++;
    lm__gx *x = group >= 0 && (size_t)group < d->ngx ? &d->gx[group] : NULL;
    if (!x) d->unassigned_rows++;
    if (d->o.dir) {
        FILE *f = rowfile(ps, x ? group : -1);
        if (!f) return lm_errf(d->err, "cannot write %s/rows/: %s", d->o.dir, "open failed");
        write_row(f, v, counted);
    }
    if (!x) return LM_OK;
    x->rows++;
    int ok = q->status_http >= 200 && q->status_http <= 299 && !q->error;
    if (counted && !ok && !x->first_error[0])
        snprintf(x->first_error, sizeof x->first_error, "%s",
                 q->error ? q->error : "no 2xx answer");
    if (x->trace && counted) {
        if (x->ntl == x->captl) {
            size_t cap = x->captl ? 2 * x->captl : 256;
            lm__tl_point *p = realloc(x->tl, cap * sizeof *p);
            if (!p) return lm_errf(d->err, "out of memory");
            x->tl = p;
            x->captl = cap;
        }
        int64_t t = first_known(q->intended_send_ns, q->send_ns, q->ingress_ns);
        if (x->ntl == 0) x->t0_ns = t;
        lm__tl_point *p = &x->tl[x->ntl++];
        p->t_s = known(t) ? (double)(t - x->t0_ns) / 1e9 : NAN;
        p->e2e_ms = !ok ? NAN
                    : known(q->intended_send_ns) && known(q->receive_ns)
                        ? ms(q->intended_send_ns, q->receive_ns)
                    : known(q->ingress_ns) && known(q->response_ns)
                        ? ms(q->ingress_ns, q->response_ns)
                        : NAN;
        p->service_id = q->service_id;
        p->cold = q->cold == 1;
        p->ok = ok;
    }
    if (!counted || !ok) return LM_OK;
    lm__inst *in = q->instance_id ? inst_find(ps, q->instance_id) : NULL;
    add_parts(x, q, in);
    int64_t s = first_known(q->send_ns, q->ingress_ns, q->dispatch_ns);
    int64_t r = known(q->receive_ns)    ? q->receive_ns
                : known(q->response_ns) ? q->response_ns
                                        : q->result_ns;
    if (known(s) && (!known(x->first_ns) || s < x->first_ns)) x->first_ns = s;
    if (known(r) && (!known(x->last_ns) || r > x->last_ns)) x->last_ns = r;
    if (in) {
        in->requests++;
        if (known(q->cpu_ns)) in->cpu_ms += (double)q->cpu_ns / 1e6;
        if (known(q->mem_peak_bytes) &&
            (isnan(in->mem_peak) || (double)q->mem_peak_bytes > in->mem_peak))
            in->mem_peak = (double)q->mem_peak_bytes;
    }
    return LM_OK;
}

/* The groups' extras, by pass index: a file's cells are its groups
 * before the first request is read (make_gx); a platform's groups, by
 * service and start, appear as requests do (grown in on_row_grow). */
static int make_gx(lm_report_doc *d) {
    lm_report_summary *s = &d->sum[LM__E2E];
    size_t n = s->by_cell ? s->ngroups : 0;
    lm__gx *x = calloc(n ? n : 1, sizeof *x);
    if (!x) return LM_ERR;
    d->gx = x;
    d->ngx = n;
    for (size_t i = 0; i < n; i++) {
        const lm_report_group *g = &s->groups[i];
        x[i].first_ns = x[i].last_ns = LM_RESULTS_NULL;
        snprintf(x[i].rows_file, sizeof x[i].rows_file, "rows/cell-%lld.csv",
                 (long long)g->cell_id);
        x[i].trace = g->load && strncmp(g->load, "trace", 5) == 0;
    }
    return LM_OK;
}

static int on_row_grow(void *arg, const lm_results_request_view *v, long group, int counted) {
    pass *ps = arg;
    lm_report_doc *d = ps->d;
    if (!d->gx && make_gx(d) != LM_OK) return lm_errf(d->err, "out of memory");
    if (group >= 0 && (size_t)group >= d->ngx) {
        size_t n = (size_t)group + 1;
        lm__gx *x = realloc(d->gx, n * sizeof *x);
        if (!x) return lm_errf(d->err, "out of memory");
        memset(x + d->ngx, 0, (n - d->ngx) * sizeof *x);
        for (size_t i = d->ngx; i < n; i++) {
            x[i].first_ns = x[i].last_ns = LM_RESULTS_NULL;
            snprintf(x[i].rows_file, sizeof x[i].rows_file, "rows/service-%lld-%s.csv",
                     (long long)v->q.service_id,
                     v->q.cold == 1   ? "cold"
                     : v->q.cold == 0 ? "warm"
                                      : "unknown");
        }
        d->gx = x;
        d->ngx = n;
    }
    return on_row(arg, v, group, counted);
}

static int read_tables(lm_report_doc *d, char *err) {
    lm_results_reader *r = lm_results_reader_open(d->o.db, err);
    if (!r) return LM_ERR;
    int rc = LM_ERR;
    if (lm_results_reader_rows(r, "meta", on_meta, d, err) != LM_OK ||
        lm_results_reader_rows(r, "services", on_service, d, err) != LM_OK ||
        lm_results_reader_rows(r, "instances", on_instance, d, err) != LM_OK ||
        lm_results_reader_rows(r, "artifacts", on_artifact, d, err) != LM_OK ||
        lm_results_reader_rows(r, "events", on_event, d, err) != LM_OK)
        goto out;
    if (!d->phase_names && phase_columns(d, 0, NULL) != LM_OK) {
        lm_errf(err, "out of memory");
        goto out;
    }
    rc = LM_OK;
out:
    lm_results_reader_close(r);
    return rc;
}

int lm__report_read(lm_report_doc *d, char *err) {
    d->err = err;
    if (read_tables(d, err) != LM_OK) return LM_ERR;
    for (int m = 0; m < LM__NMETRIC; m++) {
        d->sum[m].db = d->o.db;
        d->sum[m].metric = lm__report_metrics[m];
        d->sum[m].by_cell = -1;
        d->sum[m].baseline = NULL;
        d->sum[m].boot.resamples = d->o.resamples;
        d->sum[m].boot.seed = d->o.seed ? d->o.seed : 1;
        d->sum[m].boot.level = 0.95;
    }
    if (d->o.dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/rows", d->o.dir);
        lm_rmtree(path); /* rows of an earlier report of another file */
        if (lm_mkdirs(path, err) != LM_OK) return LM_ERR;
    }
    if (!d->rf && !(d->rf = calloc(ROWFILES_OPEN, sizeof *d->rf)))
        return lm_errf(err, "out of memory");
    pass ps = {.d = d, .inst_last = -1};
    snprintf(ps.other_file, sizeof ps.other_file, "rows/other.csv");
    if (inst_index(&ps) != LM_OK) return lm_errf(err, "out of memory");
    int rc = lm_report_summaries_load(d->sum, LM__NMETRIC, on_row_grow, &ps, err);
    if (rc == LM_OK && !d->gx && make_gx(d) != LM_OK) rc = lm_errf(err, "out of memory");
    for (size_t i = 0; i < d->nrf; i++)
        if (d->rf[i].f && fclose(d->rf[i].f) != 0 && rc == LM_OK)
            rc = lm_errf(err, "cannot write %s/rows/: disk full?", d->o.dir);
    d->nrf = 0;
    free(ps.inst_hash);
    return rc;
}
