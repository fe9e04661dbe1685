/* azure2021.c -- the Azure Functions 2021 per-invocation trace (azure.h):
 * every invocation starts at end_timestamp - duration; the rows are those
 * starts, sorted, scaled and thinned. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "trace/internal.h"

/* Timestamps and durations beyond this are refused (the real trace spans
 * two weeks), which keeps every minute number and offset in range. */
#define MAX_SECONDS 1e8

typedef struct {
    double start_s;
    uint32_t fn;  /* index while reading */
    uint32_t seq; /* file order: ties keep it */
} invocation;

typedef struct {
    lm__intern keys;
    lm__azfn **fns;
    size_t nfns, capfns;
    invocation *inv;
    size_t ninv, capinv;
} reading;

static int by_start(const void *x, const void *y) {
    const invocation *a = x, *b = y;
    if (a->start_s != b->start_s) return a->start_s < b->start_s ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static lm__azfn *function_of(reading *rd, const lm__csv *c, const char *app, const char *func,
                             lm_buf *key) {
    key->len = 0;
    if (lm_buf_printf(key, "%s\x1f%s", app, func) != LM_OK) return NULL;
    int added;
    long k = lm__intern_put(&rd->keys, key->data, key->len, &added);
    if (k < 0) return NULL;
    if (!added) return rd->fns[k];
    if (rd->nfns == rd->capfns) {
        size_t cap = rd->capfns ? rd->capfns * 2 : 256;
        lm__azfn **v = realloc(rd->fns, cap * sizeof(*v));
        if (!v) return NULL;
        rd->fns = v;
        rd->capfns = cap;
    }
    lm__azfn *f = calloc(1, sizeof(*f));
    if (!f) return NULL;
    rd->fns[rd->nfns] = f;
    f->id = rd->nfns++;
    f->line = c->lineno;
    f->has_mean = 1;
    f->pub.owner = strdup("");
    f->pub.trigger = strdup("");
    f->pub.app = strdup(app);
    f->pub.function = strdup(func);
    if (!f->pub.owner || !f->pub.trigger || !f->pub.app || !f->pub.function) return NULL;
    return f;
}

static int read_rows(lm__csv *c, reading *rd, const lm_azure_opts *o, char *err) {
    int r = lm__csv_next(c, err);
    if (r < 0) return LM_ERR;
    if (r == 0)
        return lm_errf(err, "%s: the file is empty (want app,func,end_timestamp,duration)",
                       c->name);
    if (lm__csv_split(c, err) != LM_OK) return LM_ERR;
    static const char *const need[] = {"app", "func", "end_timestamp", "duration"};
    int col[4];
    size_t ncols = c->nfields;
    for (size_t i = 0; i < ncols; i++) {
        int k = 0;
        while (k < 4 && strcmp(c->fields[i], need[k]) != 0)
            k++;
        if (k == 4)
            return lm__csv_errf(c, err,
                                "column '%s' is not in the 2021 format (app, func, "
                                "end_timestamp, duration)",
                                c->fields[i]);
    }
    for (int k = 0; k < 4; k++)
        if ((col[k] = lm__csv_column(c, need[k])) < 0)
            return lm__csv_errf(c, err,
                                "missing column '%s' (the 2021 format has app, func, "
                                "end_timestamp, duration)",
                                need[k]);
    lm_buf key = {0};
    int rc = LM_OK;
    while (rc == LM_OK && (r = lm__csv_next(c, err)) > 0) {
        if ((rc = lm__csv_split(c, err)) != LM_OK) break;
        if (c->nfields != ncols) {
            rc = lm__csv_errf(c, err, "%s row: %zu fields, the header has %zu",
                              c->nfields < ncols ? "truncated" : "overlong", c->nfields, ncols);
            break;
        }
        double end, dur;
        const char *e = c->fields[col[2]], *d = c->fields[col[3]];
        if (lm__parse_num(e, &end) != LM_OK) {
            rc = lm__csv_errf(c, err, "end_timestamp: '%s' is not a number of seconds", e);
            break;
        }
        if (lm__parse_num(d, &dur) != LM_OK || dur < 0) {
            rc = lm__csv_errf(c, err, "duration: '%s' is not a number of seconds (>= 0)", d);
            break;
        }
        if (fabs(end) > MAX_SECONDS || dur > MAX_SECONDS) {
            rc = lm__csv_errf(c, err, "%s: %s is beyond %.0f seconds (about three years)",
                              fabs(end) > MAX_SECONDS ? "end_timestamp" : "duration",
                              fabs(end) > MAX_SECONDS ? e : d, MAX_SECONDS);
            break;
        }
        double start = end - dur;
        double minute = floor(start / 60) + 1;
        if (o->minute_from && (minute < o->minute_from || minute > o->minute_to)) continue;
        lm__azfn *f = function_of(rd, c, c->fields[col[0]], c->fields[col[1]], &key);
        if (!f || (rd->ninv == UINT32_MAX)) {
            rc = lm_errf(err, "%s: out of memory", c->name);
            break;
        }
        if (rd->ninv == rd->capinv) {
            size_t cap = rd->capinv ? rd->capinv * 2 : 4096;
            invocation *v = realloc(rd->inv, cap * sizeof(*v));
            if (!v) {
                rc = lm_errf(err, "%s: out of memory", c->name);
                break;
            }
            rd->inv = v;
            rd->capinv = cap;
        }
        rd->inv[rd->ninv] = (invocation){start, (uint32_t)f->id, (uint32_t)rd->ninv};
        rd->ninv++;
        f->pub.invocations++;
        f->sum_s += dur;
    }
    lm_buf_free(&key);
    if (rc == LM_OK && r < 0) rc = LM_ERR;
    if (rc == LM_OK && c->lineno < 2)
        rc = lm_errf(err, "%s: no rows after the header (no invocations)", c->name);
    return rc;
}

/* The rows: the selected functions' invocations in start order, thinned. */
static int emit(lm_trace *t, const reading *rd, size_t nread, lm__azfn **fns, size_t n,
                const lm_azure_opts *o, double origin_s, char *err) {
    long *sel = malloc((nread + 1) * sizeof(*sel));
    const char **fn = calloc(n + 1, sizeof(*fn));
    const lm_trace_payload **pay = calloc(n + 1, sizeof(*pay));
    uint64_t *seen = calloc(n + 1, sizeof(*seen));
    int rc = LM_ERR;
    if (!sel || !fn || !pay || !seen) goto oom;
    for (size_t i = 0; i < nread; i++)
        sel[i] = -1;
    const char *rt = lm__trace_str(t, LM__RUNTIME, o->runtime, NULL);
    if (!rt) goto oom;
    for (size_t i = 0; i < n; i++) {
        char payload[64];
        int added;
        sel[fns[i]->id] = (long)i;
        snprintf(payload, sizeof(payload), "group:%s", fns[i]->pub.group);
        fn[i] = lm__trace_str(t, LM__FUNCTION, fns[i]->pub.target, NULL);
        pay[i] = lm__trace_payload(t, payload, &added, err);
        if (!fn[i] || !pay[i]) goto oom;
        fns[i]->pub.rows = lm__thin_keep(o->thin_ppm, 0, fns[i]->pub.invocations);
    }
    uint64_t rows = 0;
    for (size_t i = 0; i < n; i++)
        rows += fns[i]->pub.rows;
    if (rows > LM_TRACE_MAX_ROWS) {
        rc = lm_errf(err,
                     "the replay would have %llu rows, more than a trace holds (%d): narrow it "
                     "with --minutes, --top or --thin",
                     (unsigned long long)rows, LM_TRACE_MAX_ROWS);
        goto done;
    }
    rc = LM_OK;
    for (size_t k = 0; k < rd->ninv && rc == LM_OK; k++) {
        long i = sel[rd->inv[k].fn];
        if (i < 0) continue;
        seen[i]++;
        if (!lm__thin_keep(o->thin_ppm, seen[i] - 1, seen[i])) continue;
        double off = floor((rd->inv[k].start_s - origin_s) * 1e6 / o->speedup + 0.5);
        rc = lm__trace_push(t, off > 0 ? (int64_t)off : 0, fn[i], rt, pay[i], o->start, err);
    }
    goto done;
oom:
    rc = lm_errf(err, "out of memory");
done:
    free(sel);
    free(fn);
    free(pay);
    free(seen);
    return rc;
}

int lm_azure2021(FILE *in, const char *name, const lm_azure_opts *opts, lm_azure_result *out,
                 char *err) {
    memset(out, 0, sizeof(*out));
    lm_azure_opts o;
    if (lm__azure_opts(opts, &o, err) != LM_OK) return LM_ERR;
    reading rd = {0};
    lm__csv c;
    lm__csv_init(&c, in, name);
    lm_trace *t = NULL;
    int rc = LM_ERR;
    int rr = read_rows(&c, &rd, &o, err);
    /* The functions leave rd: selection frees and reorders them. */
    lm__azfn **fns = rd.fns;
    size_t n = rd.nfns, nread = rd.nfns, skipped = 0;
    if (rr != LM_OK) goto done;
    if (rd.ninv == 0) {
        lm_errf(err, "%s: no invocations in the window", name);
        goto done;
    }
    qsort(rd.inv, rd.ninv, sizeof(*rd.inv), by_start);
    int from = o.minute_from, to = o.minute_to;
    if (!from) {
        from = (int)(floor(rd.inv[0].start_s / 60) + 1);
        to = (int)(floor(rd.inv[rd.ninv - 1].start_s / 60) + 1);
    }
    for (size_t i = 0; i < n; i++)
        fns[i]->pub.mean_ms = fns[i]->sum_s / (double)fns[i]->pub.invocations * 1000;
    if (lm__azure_select(fns, &n, &o, 1, name, &skipped, err) != LM_OK) goto done;
    if (!(t = lm_trace_new(LM_TRACE_OPEN, 0, NULL))) {
        lm_errf(err, "out of memory");
        goto done;
    }
    const char *base = strrchr(name, '/');
    if (lm__azure_keys(t, "azure2021", base ? base + 1 : name, &o, from, to, n, 1, err) != LM_OK ||
        emit(t, &rd, nread, fns, n, &o, (double)(from - 1) * 60, err) != LM_OK)
        goto done;
    if (t->nrows == 0) {
        lm_errf(err, "%s: thinning left no invocations (raise --thin)", name);
        goto done;
    }
    if (lm__azure_finish(out, fns, n, skipped, t, err) != LM_OK) goto done;
    t = NULL;
    n = 0;
    rc = LM_OK;
done:
    for (size_t i = 0; i < n; i++)
        lm__azfn_free(fns[i]);
    free(fns);
    free(rd.inv);
    lm__intern_free(&rd.keys);
    lm_trace_free(t);
    lm__csv_free(&c);
    return rc;
}
