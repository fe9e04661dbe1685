/* azure2019.c -- the Azure Functions 2019 replay (azure.h): the durations
 * file (mean duration per function), the per-minute invocation counts, and
 * the arrivals placed inside each (scaled) minute. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "trace/internal.h"

#define MAX_COUNT 1000000000ull /* invocations of one function in one minute */

static const char *const id_cols[] = {"HashOwner", "HashApp", "HashFunction"};

/* "owner\x1f" "app\x1f" "function": one function's key. */
static int make_key(lm_buf *b, const char *o, const char *a, const char *f) {
    b->len = 0;
    return lm_buf_printf(b, "%s\x1f%s\x1f%s", o, a, f);
}

/* ---- the durations file ------------------------------------------------ */

typedef struct {
    lm__intern keys;
    double *mean_ms; /* by key index */
} durations;

static int read_durations(FILE *in, const char *name, durations *d, char *err) {
    lm__csv c;
    lm__csv_init(&c, in, name);
    lm_buf key = {0};
    int col[4], rc = LM_ERR, r = lm__csv_next(&c, err);
    if (r <= 0) {
        if (r == 0) lm_errf(err, "%s: the file is empty (want the durations file's header)", name);
        goto done;
    }
    if (lm__csv_split(&c, err) != LM_OK) goto done;
    size_t ncols = c.nfields;
    static const char *const need[] = {"HashOwner", "HashApp", "HashFunction", "Average"};
    for (int k = 0; k < 4; k++)
        if ((col[k] = lm__csv_column(&c, need[k])) < 0) {
            lm__csv_errf(&c, err,
                         "missing column '%s' (a durations file has HashOwner, HashApp, "
                         "HashFunction, Average, ...)",
                         need[k]);
            goto done;
        }
    size_t cap = 0;
    while ((r = lm__csv_next(&c, err)) > 0) {
        if (lm__csv_split(&c, err) != LM_OK) goto done;
        if (c.nfields != ncols) {
            lm__csv_errf(&c, err, "truncated row: %zu fields, the header has %zu", c.nfields,
                         ncols);
            goto done;
        }
        double avg;
        const char *a = c.fields[col[3]];
        if (lm__parse_num(a, &avg) != LM_OK || avg < 0) {
            lm__csv_errf(&c, err, "Average: '%s' is not a duration in milliseconds (>= 0)", a);
            goto done;
        }
        if (make_key(&key, c.fields[col[0]], c.fields[col[1]], c.fields[col[2]]) != LM_OK) goto oom;
        int added;
        long k = lm__intern_put(&d->keys, key.data, key.len, &added);
        if (k < 0) goto oom;
        if (!added) continue; /* a repeated function: its first row counts */
        if ((size_t)k >= cap) {
            cap = cap ? cap * 2 : 1024;
            double *v = realloc(d->mean_ms, cap * sizeof(*v));
            if (!v) goto oom;
            d->mean_ms = v;
        }
        d->mean_ms[k] = avg;
    }
    rc = r < 0 ? LM_ERR : LM_OK;
    goto done;
oom:
    lm_errf(err, "%s: out of memory", name);
done:
    lm_buf_free(&key);
    lm__csv_free(&c);
    return rc;
}

/* ---- the invocations file ---------------------------------------------- */

typedef struct {
    int id[4];   /* columns of HashOwner, HashApp, HashFunction, Trigger */
    int *minute; /* column of minute m at minute[m - 1] */
    int minutes; /* minute columns in the file */
    size_t ncols;
} inv_header;

static int read_inv_header(lm__csv *c, inv_header *h, char *err) {
    int r = lm__csv_next(c, err);
    if (r < 0) return LM_ERR;
    if (r == 0)
        return lm_errf(err,
                       "%s: the file is empty (want HashOwner,HashApp,HashFunction,"
                       "Trigger,1,...,1440)",
                       c->name);
    if (lm__csv_split(c, err) != LM_OK) return LM_ERR;
    h->ncols = c->nfields;
    h->minute = calloc(LM_AZURE2019_MINUTES, sizeof(int));
    if (!h->minute) return lm_errf(err, "out of memory");
    for (int k = 0; k < 4; k++)
        h->id[k] = -1;
    h->minutes = 0;
    for (size_t i = 0; i < c->nfields; i++) {
        const char *f = c->fields[i];
        uint64_t m;
        int k = 0;
        static const char *const names[] = {"HashOwner", "HashApp", "HashFunction", "Trigger"};
        while (k < 4 && strcmp(f, names[k]) != 0)
            k++;
        if (k < 4) {
            if (h->id[k] >= 0) return lm__csv_errf(c, err, "column '%s' given twice", f);
            h->id[k] = (int)i;
        } else if (lm__parse_uint(f, LM_AZURE2019_MINUTES, &m) == LM_OK && m >= 1) {
            if (h->minute[m - 1]) return lm__csv_errf(c, err, "column '%s' given twice", f);
            h->minute[m - 1] = (int)i + 1; /* 0 = absent */
            if ((int)m > h->minutes) h->minutes = (int)m;
        } else {
            return lm__csv_errf(c, err,
                                "column '%s' is not in the 2019 invocations format (HashOwner, "
                                "HashApp, HashFunction, Trigger, 1..1440)",
                                f);
        }
    }
    for (int k = 0; k < 4; k++)
        if (h->id[k] < 0)
            return lm__csv_errf(c, err, "missing column '%s' (the 2019 invocations format)",
                                k < 3 ? id_cols[k] : "Trigger");
    if (h->minutes == 0) return lm__csv_errf(c, err, "missing column '1' (no minute columns)");
    for (int m = 0; m < h->minutes; m++) {
        if (!h->minute[m])
            return lm__csv_errf(c, err, "missing column '%d' (minutes run 1 to %d)", m + 1,
                                h->minutes);
        h->minute[m]--;
    }
    return LM_OK;
}

/* One row: the counts of the window's minutes. NULL *out for a function not
 * invoked in the window. */
static int read_inv_row(lm__csv *c, const inv_header *h, int from, int to, const durations *d,
                        lm_buf *key, lm__azfn **out, char *err) {
    *out = NULL;
    if (lm__csv_split(c, err) != LM_OK) return LM_ERR;
    if (c->nfields != h->ncols)
        return lm__csv_errf(c, err, "%s row: %zu fields, the header has %zu",
                            c->nfields < h->ncols ? "truncated" : "overlong", c->nfields, h->ncols);
    uint32_t *counts = calloc((size_t)(to - from + 1), sizeof(*counts));
    if (!counts) return lm_errf(err, "out of memory");
    uint64_t total = 0;
    for (int m = 1; m <= h->minutes; m++) {
        const char *f = c->fields[h->minute[m - 1]];
        uint64_t v;
        if (lm__parse_uint(f, MAX_COUNT, &v) != LM_OK) {
            free(counts);
            if (f[0] == '-') return lm__csv_errf(c, err, "minute %d: %s is negative", m, f);
            return lm__csv_errf(c, err,
                                "minute %d: '%s' is not a whole number of invocations (0 to "
                                "%llu)",
                                m, f, MAX_COUNT);
        }
        if (m >= from && m <= to) {
            counts[m - from] = (uint32_t)v;
            total += v;
        }
    }
    if (total == 0) {
        free(counts);
        return LM_OK;
    }
    lm__azfn *fn = calloc(1, sizeof(*fn));
    if (!fn) {
        free(counts);
        return lm_errf(err, "out of memory");
    }
    fn->counts = counts;
    fn->line = c->lineno;
    fn->pub.owner = strdup(c->fields[h->id[0]]);
    fn->pub.app = strdup(c->fields[h->id[1]]);
    fn->pub.function = strdup(c->fields[h->id[2]]);
    fn->pub.trigger = strdup(c->fields[h->id[3]]);
    fn->pub.invocations = total;
    fn->pub.mean_ms = -1;
    *out = fn;
    if (!fn->pub.owner || !fn->pub.app || !fn->pub.function || !fn->pub.trigger ||
        make_key(key, fn->pub.owner, fn->pub.app, fn->pub.function) != LM_OK)
        return lm_errf(err, "out of memory");
    if (d) {
        long k = lm__intern_find(&d->keys, key->data, key->len);
        if (k >= 0) {
            fn->has_mean = 1;
            fn->pub.mean_ms = d->mean_ms[k];
        }
    }
    return LM_OK;
}

/* ---- arrivals ---------------------------------------------------------- */

/* Places n arrivals in [start, start + len): n + 1 gaps from the chosen
 * distribution, scaled to the minute; arrivals at the first n partial
 * sums, so all of them fall inside the minute. */
static int place(lm_trace *t, const char *fn, const char *rt, const lm_trace_payload *p,
                 lm_trace_start st, lm_azure_iat iat, lm_rng *r, int64_t start, int64_t len,
                 uint64_t n, double *gaps, char *err) {
    double sum = 0;
    for (uint64_t k = 0; k <= n; k++) {
        gaps[k] = iat == LM_IAT_EXPONENTIAL ? lm__exp1(r)
                  : iat == LM_IAT_UNIFORM   ? lm_rng_open01(r)
                                            : 1.0;
        sum += gaps[k];
    }
    double c = 0;
    for (uint64_t k = 0; k < n; k++) {
        c += gaps[k];
        int64_t at = (int64_t)floor((double)len * (c / sum));
        if (at > len - 1) at = len - 1;
        if (lm__trace_push(t, start + at, fn, rt, p, st, err) != LM_OK) return LM_ERR;
    }
    return LM_OK;
}

static int emit(lm_trace *t, lm__azfn **fns, size_t n, const lm_azure_opts *o, int from, int to,
                char *err) {
    uint64_t rows = 0, maxc = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t cum = 0, kept = 0;
        for (int m = 0; m <= to - from; m++) {
            uint64_t c = fns[i]->counts[m], k = lm__thin_keep(o->thin_ppm, cum, cum + c);
            cum += c;
            kept += k;
            if (k > maxc) maxc = k;
        }
        fns[i]->pub.rows = kept;
        rows += kept;
    }
    if (rows > LM_TRACE_MAX_ROWS)
        return lm_errf(err,
                       "the replay would have %llu rows, more than a trace holds (%d): narrow "
                       "it with --minutes, --top or --thin",
                       (unsigned long long)rows, LM_TRACE_MAX_ROWS);
    double *gaps = malloc((maxc + 1) * sizeof(*gaps));
    if (!gaps) return lm_errf(err, "out of memory");
    int rc = LM_OK;
    char payload[64];
    lm_buf key = {0};
    for (size_t i = 0; i < n && rc == LM_OK; i++) {
        lm__azfn *f = fns[i];
        int added;
        snprintf(payload, sizeof(payload), "group:%s", f->pub.group);
        const char *fn = lm__trace_str(t, LM__FUNCTION, f->pub.target, NULL);
        const char *rt = lm__trace_str(t, LM__RUNTIME, o->runtime, NULL);
        const lm_trace_payload *p = lm__trace_payload(t, payload, &added, err);
        if (!fn || !rt || !p || make_key(&key, f->pub.owner, f->pub.app, f->pub.function)) {
            rc = lm_errf(err, "out of memory");
            break;
        }
        /* Each function's arrivals are a stream of their own: changing the
         * window's other functions (--top) does not move them. */
        lm_rng r = {lm__stream_seed(o->seed, key.data)};
        uint64_t cum = 0;
        for (int m = 0; m <= to - from && rc == LM_OK; m++) {
            uint64_t c = f->counts[m], k = lm__thin_keep(o->thin_ppm, cum, cum + c);
            cum += c;
            if (!k) continue;
            int64_t s = lm__minute_start_us((uint64_t)m, o->speedup);
            int64_t len = lm__minute_start_us((uint64_t)m + 1, o->speedup) - s;
            rc = place(t, fn, rt, p, o->start, o->iat, &r, s, len, k, gaps, err);
        }
    }
    lm_buf_free(&key);
    free(gaps);
    if (rc == LM_OK) lm_trace_sort(t);
    return rc;
}

int lm_azure2019(FILE *inv, const char *inv_name, FILE *dur, const char *dur_name,
                 const lm_azure_opts *opts, lm_azure_result *out, char *err) {
    memset(out, 0, sizeof(*out));
    lm_azure_opts o;
    if (lm__azure_opts(opts, &o, err) != LM_OK) return LM_ERR;
    durations d = {0};
    inv_header h = {0};
    lm__csv c;
    lm__csv_init(&c, inv, inv_name);
    lm__azfn **fns = NULL;
    size_t n = 0, cap = 0, skipped = 0;
    lm_buf key = {0};
    lm_trace *t = NULL;
    int rc = LM_ERR, r;
    if (dur && read_durations(dur, dur_name, &d, err) != LM_OK) goto done;
    if (read_inv_header(&c, &h, err) != LM_OK) goto done;
    int from = o.minute_from ? o.minute_from : 1, to = o.minute_to ? o.minute_to : h.minutes;
    if (to > h.minutes) {
        lm_errf(err, "--minutes %d-%d: %s has minutes 1 to %d", from, to, inv_name, h.minutes);
        goto done;
    }
    while ((r = lm__csv_next(&c, err)) > 0) {
        lm__azfn *f;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            lm__azfn **v = realloc(fns, cap * sizeof(*v));
            if (!v) {
                lm_errf(err, "out of memory");
                goto done;
            }
            fns = v;
        }
        int rr = read_inv_row(&c, &h, from, to, dur ? &d : NULL, &key, &f, err);
        if (f) fns[n++] = f;
        if (rr != LM_OK) goto done;
    }
    if (r < 0) goto done;
    if (c.lineno < 2) {
        lm_errf(err, "%s: no rows after the header (no functions)", inv_name);
        goto done;
    }
    if (lm__azure_select(fns, &n, &o, dur != NULL, inv_name, &skipped, err) != LM_OK) goto done;
    if (!(t = lm_trace_new(LM_TRACE_OPEN, 0, NULL))) {
        lm_errf(err, "out of memory");
        goto done;
    }
    const char *base = strrchr(inv_name, '/');
    if (lm__azure_keys(t, "azure2019", base ? base + 1 : inv_name, &o, from, to, n, dur != NULL,
                       err) != LM_OK ||
        emit(t, fns, n, &o, from, to, err) != LM_OK)
        goto done;
    if (t->nrows == 0) {
        lm_errf(err, "%s: thinning left no invocations (raise --thin)", inv_name);
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
    lm_trace_free(t);
    lm_buf_free(&key);
    lm__csv_free(&c);
    free(h.minute);
    lm__intern_free(&d.keys);
    free(d.mean_ms);
    return rc;
}
