/* azure_map.c -- what the two Azure readers share (internal.h): their
 * options, the selection and ranking of trace functions, the mapping rule
 * onto built-in functions and payload groups, thinning, the header keys,
 * the result. docs/trace.md states the rule; this is it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "trace/internal.h"
#include "util/csv.h"

/* The eight benchmark functions by typical duration, shortest first: the
 * order of their warm medians natively with payload group s (docs/trace.md
 * gives the measurement). Fixed here so the mapping never depends on the
 * machine. */
static const char *const default_targets[] = {
    "fibonacci",       "prime-numbers",      "audio-generation", "decrypt-message",
    "encrypt-message", "language-detection", "fuzzy-search",     "mandelbrot-bitmap"};
static const char *const default_groups[] = {"xs", "s", "1"};

void lm_azure_defaults(lm_azure_opts *o) {
    memset(o, 0, sizeof(*o));
    o->speedup = 1;
    o->thin_ppm = 1000000;
    o->iat = LM_IAT_EXPONENTIAL;
    o->seed = 1;
    o->runtime = "";
    o->start = LM_START_ANY;
}

int lm__azure_opts(const lm_azure_opts *o, lm_azure_opts *r, char *err) {
    char e[LM_ERRLEN];
    *r = *o;
    if (!r->runtime) r->runtime = "";
    if (!(isfinite(o->speedup) && o->speedup > 0))
        return lm_errf(err, "--speedup: %g must be a positive number", o->speedup);
    if (o->speedup < 0.001)
        return lm_errf(err, "--speedup: %g is below 0.001 (a minute would last over 16 hours)",
                       o->speedup);
    if (o->speedup > 60000)
        return lm_errf(err, "--speedup: %g would make a minute shorter than 1 ms (at most 60000)",
                       o->speedup);
    if (o->thin_ppm == 0 || o->thin_ppm > 1000000)
        return lm_errf(err, "--thin: keeps a fraction above 0 and at most 1");
    if (o->minute_from || o->minute_to) {
        if (o->minute_from < 1 || o->minute_to < o->minute_from)
            return lm_errf(err, "--minutes: %d-%d is not a window A-B with 1 <= A <= B",
                           o->minute_from, o->minute_to);
    }
    if ((unsigned)o->iat > LM_IAT_EQUIDISTANT) return lm_errf(err, "--iat: unknown distribution");
    if (r->ntargets == 0) {
        r->ntargets = sizeof(default_targets) / sizeof(default_targets[0]);
        memcpy(r->targets, default_targets, sizeof(default_targets));
    }
    if (r->ngroups == 0) {
        r->ngroups = sizeof(default_groups) / sizeof(default_groups[0]);
        memcpy(r->groups, default_groups, sizeof(default_groups));
    }
    for (size_t i = 0; i < r->ntargets; i++)
        if (lm_trace_check_function(r->targets[i], e) != LM_OK)
            return lm_errf(err, "--functions: %s", e);
    for (size_t i = 0; i < r->ngroups; i++) {
        char g[128];
        snprintf(g, sizeof(g), "group:%s", r->groups[i]);
        if (lm_trace_check_payload(g, NULL, e) != LM_OK) return lm_errf(err, "--groups: %s", e);
    }
    if (lm_trace_check_runtime(r->runtime, e) != LM_OK) return lm_errf(err, "--runtime: %s", e);
    return LM_OK;
}

static int by_key(const lm__azfn *a, const lm__azfn *b) {
    int c = strcmp(a->pub.owner, b->pub.owner);
    if (!c) c = strcmp(a->pub.app, b->pub.app);
    if (!c) c = strcmp(a->pub.function, b->pub.function);
    return c;
}

static int by_invocations(const void *x, const void *y) {
    const lm__azfn *a = *(lm__azfn *const *)x, *b = *(lm__azfn *const *)y;
    if (a->pub.invocations != b->pub.invocations)
        return a->pub.invocations > b->pub.invocations ? -1 : 1;
    return by_key(a, b);
}

static int by_duration(const void *x, const void *y) {
    const lm__azfn *a = *(lm__azfn *const *)x, *b = *(lm__azfn *const *)y;
    if (a->pub.mean_ms != b->pub.mean_ms) return a->pub.mean_ms < b->pub.mean_ms ? -1 : 1;
    return by_invocations(x, y);
}

/* Keeps the functions keep() says, in order; frees the others. */
static size_t filter(lm__azfn **f, size_t n, int (*keep)(const lm__azfn *)) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (keep(f[i]))
            f[k++] = f[i];
        else
            lm__azfn_free(f[i]);
    }
    return k;
}
static int invoked(const lm__azfn *f) { return f->pub.invocations > 0; }
static int has_mean(const lm__azfn *f) { return f->has_mean; }

int lm__azure_select(lm__azfn **fns, size_t *n, const lm_azure_opts *o, int by_dur,
                     const char *name, size_t *skipped, char *err) {
    *skipped = 0;
    *n = filter(fns, *n, invoked);
    if (by_dur && o->skip_unmapped) {
        size_t before = *n;
        *n = filter(fns, *n, has_mean);
        *skipped = before - *n;
    }
    if (*n == 0)
        return lm_errf(err, "%s: no invocations in the window%s", name,
                       *skipped ? " (every function invoked there was unmapped)" : "");
    qsort(fns, *n, sizeof(*fns), by_invocations);
    if (o->top && o->top < *n) {
        for (size_t i = o->top; i < *n; i++)
            lm__azfn_free(fns[i]);
        *n = o->top;
    }
    if (by_dur)
        for (size_t i = 0; i < *n; i++)
            if (!fns[i]->has_mean)
                return lm_errf(err,
                               "%s:%ld: function %s/%s/%s maps to nothing: it is not in the "
                               "durations file (give --skip-unmapped to leave such functions out)",
                               name, fns[i]->line, fns[i]->pub.owner, fns[i]->pub.app,
                               fns[i]->pub.function);
    if (by_dur) qsort(fns, *n, sizeof(*fns), by_duration);
    /* Rank r of K goes to target floor(r F / K); inside a target's share,
     * the j-th of m goes to group floor(j G / m). */
    size_t K = *n, F = o->ntargets, G = o->ngroups;
    for (size_t r = 0; r < K;) {
        size_t q = r * F / K, end = r;
        while (end < K && end * F / K == q)
            end++;
        for (size_t j = 0; j < end - r; j++) {
            lm_azure_fn *p = &fns[r + j]->pub;
            p->rank = r + j;
            p->target = o->targets[q];
            p->group = o->groups[j * G / (end - r)];
        }
        r = end;
    }
    return LM_OK;
}

uint64_t lm__thin_keep(uint32_t ppm, uint64_t before, uint64_t after) {
    return (uint64_t)ppm * after / 1000000 - (uint64_t)ppm * before / 1000000;
}

int64_t lm__minute_start_us(uint64_t i, double speedup) {
    return (int64_t)floor((double)i * 60e6 / speedup);
}

int lm__azure_keys(lm_trace *t, const char *source, const char *input, const lm_azure_opts *o,
                   int from, int to, size_t nfns, int by_duration, char *err) {
    static const char *const iat[] = {"exponential", "uniform", "equidistant"};
    char b[64], in[256];
    size_t k = 0;
    for (const char *p = input; *p && k + 1 < sizeof(in); p++)
        in[k++] = (*p == ' ' || *p == '\t') ? '_' : *p;
    in[k] = '\0';
    int rc = lm_trace_set_key(t, "source", source, err);
    if (k) rc |= lm_trace_set_key(t, "input", in, err);
    snprintf(b, sizeof(b), "%d-%d", from, to);
    rc |= lm_trace_set_key(t, "minutes", b, err);
    if (o->top) {
        snprintf(b, sizeof(b), "%zu", o->top);
        rc |= lm_trace_set_key(t, "top", b, err);
    }
    rc |= lm_trace_set_key(t, "speedup", lm__fmt_num(b, sizeof(b), o->speedup), err);
    rc |= lm_trace_set_key(t, "thin", lm__fmt_num(b, sizeof(b), o->thin_ppm / 1e6), err);
    if (strcmp(source, "azure2019") == 0) {
        rc |= lm_trace_set_key(t, "iat", iat[o->iat], err);
        snprintf(b, sizeof(b), "%llu", (unsigned long long)o->seed);
        rc |= lm_trace_set_key(t, "seed", b, err);
    }
    snprintf(b, sizeof(b), "%zu", nfns);
    rc |= lm_trace_set_key(t, "functions", b, err);
    rc |= lm_trace_set_key(t, "rank_by", by_duration ? "duration" : "invocations", err);
    return rc ? LM_ERR : LM_OK;
}

int lm__azure_finish(lm_azure_result *out, lm__azfn **fns, size_t n, size_t skipped, lm_trace *t,
                     char *err) {
    memset(out, 0, sizeof(*out));
    out->fns = calloc(n + 1, sizeof(*out->fns));
    if (!out->fns) return lm_errf(err, "out of memory");
    for (size_t i = 0; i < n; i++) {
        out->fns[i] = fns[i]->pub;
        memset(&fns[i]->pub, 0, sizeof(fns[i]->pub));
        lm__azfn_free(fns[i]);
    }
    out->nfns = n;
    out->skipped = skipped;
    out->trace = t;
    return LM_OK;
}

static void free_pub(lm_azure_fn *p) {
    free(p->owner);
    free(p->app);
    free(p->function);
    free(p->trigger);
}

void lm__azfn_free(lm__azfn *f) {
    if (!f) return;
    free_pub(&f->pub);
    free(f->counts);
    free(f);
}

void lm_azure_result_free(lm_azure_result *r) {
    if (!r) return;
    for (size_t i = 0; i < r->nfns; i++)
        free_pub(&r->fns[i]);
    free(r->fns);
    lm_trace_free(r->trace);
    memset(r, 0, sizeof(*r));
}

static void field(FILE *out, const char *s) {
    lm_csv_field(out, s, strlen(s), 0);
    fputc(',', out);
}

int lm_azure_write_map(FILE *out, const lm_azure_result *r) {
    fputs("rank,owner,app,function,trigger,invocations,rows,mean_duration_ms,lumos_function,"
          "payload\n",
          out);
    for (size_t i = 0; i < r->nfns; i++) {
        const lm_azure_fn *p = &r->fns[i];
        char m[40] = "";
        if (p->mean_ms >= 0) lm__fmt_num(m, sizeof(m), p->mean_ms);
        fprintf(out, "%zu,", p->rank);
        field(out, p->owner);
        field(out, p->app);
        field(out, p->function);
        field(out, p->trigger);
        fprintf(out, "%llu,%llu,%s,%s,group:%s\n", (unsigned long long)p->invocations,
                (unsigned long long)p->rows, m, p->target, p->group);
    }
    return ferror(out) ? LM_ERR : LM_OK;
}

int lm__csv_column(const lm__csv *c, const char *name) {
    for (size_t i = 0; i < c->nfields; i++)
        if (strcmp(c->fields[i], name) == 0) return (int)i;
    return -1;
}
