/* gen.c -- `lumos trace gen` (gen.h): the parameters checked, the mix of
 * functions and runtimes, the header keys, and the rows the pattern's
 * arrivals become. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "trace/internal.h"

static const char *const patterns[] = {"constant", "poisson", "onoff",  "mmpp", "ramp",
                                       "step",     "delayed", "closed", NULL};

const char *const *lm_trace_patterns(void) { return patterns; }

void lm_trace_gen_defaults(lm_trace_gen_opts *o) {
    memset(o, 0, sizeof(*o));
    o->pattern = "poisson";
    o->seed = 1;
    o->duration_s = 60;
    o->rate_rps = 10;
    o->on_s = 1;
    o->off_s = 1;
    o->mmpp_rate_rps[0] = 50;
    o->mmpp_rate_rps[1] = 5;
    o->sojourn_s[0] = 2;
    o->sojourn_s[1] = 8;
    o->from_rps = 1;
    o->to_rps = 200;
    /* 1, 25, 50, ..., 200 rps: the span of the paper's sweep. */
    o->steps_rps[0] = 1;
    for (int i = 1; i <= 8; i++)
        o->steps_rps[i] = 25.0 * i;
    o->nsteps = 9;
    o->step_s = 30;
    o->arrivals = LM_ARRIVALS_POISSON;
    o->idle_timeout_s = 60;
    o->margin_s = 5;
    o->count = 10;
    o->clients = 4;
    o->requests = 1000;
    o->function = "fibonacci";
    o->runtime = "";
    o->payload = "group:s";
    o->start = LM_START_ANY;
}

/* Which pattern uses which option ("" = every pattern). */
static const struct {
    const char *option;
    const char *patterns; /* space-separated, with spaces around */
} uses[] = {
    {"rate", " constant poisson onoff "},
    {"duration", " constant poisson onoff mmpp ramp "},
    {"on-s", " onoff "},
    {"off-s", " onoff "},
    {"rates", " mmpp step "},
    {"sojourn-s", " mmpp "},
    {"from", " ramp "},
    {"to", " ramp "},
    {"step-s", " step "},
    {"arrivals", " onoff ramp step "},
    {"idle-timeout-s", " delayed "},
    {"margin-s", " delayed "},
    {"count", " delayed "},
    {"clients", " closed "},
    {"requests", " closed "},
};

int lm_trace_gen_uses(const char *pattern, const char *option) {
    char key[64];
    snprintf(key, sizeof(key), " %s ", pattern);
    for (size_t i = 0; i < sizeof(uses) / sizeof(uses[0]); i++)
        if (strcmp(uses[i].option, option) == 0) return strstr(uses[i].patterns, key) != NULL;
    return 1;
}

/* ---- the mix ----------------------------------------------------------- */

#define MAX_MIX 64

typedef struct {
    const char *function, *runtime; /* interned in the trace */
    uint64_t weight;
} mix_entry;

typedef struct {
    lm_trace *t;
    mix_entry e[MAX_MIX];
    size_t n;
    uint64_t total; /* sum of the weights */
    lm_rng rng;     /* the choice stream */
    const lm_trace_payload *payload;
    lm_trace_start start;
} mixer;

static int add_entry(mixer *m, const char *fn, const char *rt, uint64_t w, const char *what,
                     char *err) {
    char e[LM_ERRLEN];
    if (lm_trace_check_function(fn, e) != LM_OK) return lm_errf(err, "%s: %s", what, e);
    if (lm_trace_check_runtime(rt, e) != LM_OK) return lm_errf(err, "%s: %s", what, e);
    if (m->n == MAX_MIX) return lm_errf(err, "--mix: more than %d entries", MAX_MIX);
    mix_entry *x = &m->e[m->n++];
    x->function = lm__trace_str(m->t, LM__FUNCTION, fn, NULL);
    x->runtime = lm__trace_str(m->t, LM__RUNTIME, rt, NULL);
    if (!x->function || !x->runtime) return lm_errf(err, "out of memory");
    x->weight = w;
    m->total += w;
    return LM_OK;
}

/* "fn[@runtime][:weight],..." */
static int parse_mix(mixer *m, const char *mix, const char *runtime, char *err) {
    char buf[4096];
    if (snprintf(buf, sizeof(buf), "%s", mix) >= (int)sizeof(buf))
        return lm_errf(err, "--mix: longer than %zu bytes", sizeof(buf) - 1);
    char *save = NULL;
    for (char *ent = strtok_r(buf, ",", &save); ent; ent = strtok_r(NULL, ",", &save)) {
        char what[300];
        snprintf(what, sizeof(what), "--mix: entry '%.200s'", ent);
        uint64_t w = 1;
        char *colon = strrchr(ent, ':');
        if (colon) {
            *colon = '\0';
            if (lm__parse_uint(colon + 1, 1000000, &w) != LM_OK || w == 0)
                return lm_errf(err, "%s: the weight must be a whole number from 1 to 1000000",
                               what);
        }
        char *at = strchr(ent, '@');
        if (at) *at = '\0';
        if (at && !at[1]) return lm_errf(err, "%s: no runtime after '@'", what);
        if (add_entry(m, ent, at ? at + 1 : runtime, w, what, err) != LM_OK) return LM_ERR;
    }
    if (m->n == 0) return lm_errf(err, "--mix: no entries (give fn[@runtime][:weight],...)");
    return LM_OK;
}

static int emit_row(void *ctx, int64_t offset_us, char *err) {
    mixer *m = ctx;
    const mix_entry *x = &m->e[0];
    if (m->n > 1) {
        uint64_t u = lm_rng_below(&m->rng, m->total);
        size_t i = 0;
        while (u >= m->e[i].weight)
            u -= m->e[i++].weight;
        x = &m->e[i];
    }
    return lm__trace_push(m->t, offset_us, x->function, x->runtime, m->payload, m->start, err);
}

/* ---- parameters -------------------------------------------------------- */

static int positive(double v, const char *opt, char *err) {
    if (isfinite(v) && v > 0) return LM_OK;
    return lm_errf(err, "--%s: %g must be a positive number", opt, v);
}

static int rate_ok(double v, const char *opt, char *err) {
    if (!isfinite(v)) return lm_errf(err, "--%s: %g is not a rate", opt, v);
    if (v < 0)
        return lm_errf(err, "--%s: %g is negative (a rate is requests per second, >= 0)", opt, v);
    return LM_OK;
}

/* Checks the pattern's parameters; *expected gets about how many rows. */
static int check_params(lm__pattern p, const lm_trace_gen_opts *o, double *expected, char *err) {
    double S = o->duration_s;
    if (lm_trace_gen_uses(patterns[p], "duration") && positive(S, "duration", err) != LM_OK)
        return LM_ERR;
    switch (p) {
    case LM__CONSTANT:
    case LM__POISSON:
        if (rate_ok(o->rate_rps, "rate", err) != LM_OK) return LM_ERR;
        *expected = o->rate_rps * S;
        break;
    case LM__ONOFF:
        if (rate_ok(o->rate_rps, "rate", err) != LM_OK || positive(o->on_s, "on-s", err) != LM_OK)
            return LM_ERR;
        if (!isfinite(o->off_s) || o->off_s < 0)
            return lm_errf(err, "--off-s: %g must be 0 or more seconds", o->off_s);
        *expected = o->rate_rps * S * o->on_s / (o->on_s + o->off_s) + 1;
        break;
    case LM__MMPP:
        for (int i = 0; i < 2; i++)
            if (rate_ok(o->mmpp_rate_rps[i], "rates", err) != LM_OK ||
                positive(o->sojourn_s[i], "sojourn-s", err) != LM_OK)
                return LM_ERR;
        *expected = fmax(o->mmpp_rate_rps[0], o->mmpp_rate_rps[1]) * S;
        break;
    case LM__RAMP:
        if (rate_ok(o->from_rps, "from", err) != LM_OK || rate_ok(o->to_rps, "to", err) != LM_OK)
            return LM_ERR;
        *expected = (o->from_rps + o->to_rps) / 2 * S;
        break;
    case LM__STEP:
        if (o->nsteps == 0) return lm_errf(err, "--rates: no steps (give R1,R2,...)");
        if (positive(o->step_s, "step-s", err) != LM_OK) return LM_ERR;
        *expected = 0;
        for (size_t i = 0; i < o->nsteps; i++) {
            if (rate_ok(o->steps_rps[i], "rates", err) != LM_OK) return LM_ERR;
            *expected += o->steps_rps[i] * o->step_s;
        }
        break;
    case LM__DELAYED:
        if (!isfinite(o->idle_timeout_s) || o->idle_timeout_s < 0)
            return lm_errf(err, "--idle-timeout-s: %g must be 0 or more seconds",
                           o->idle_timeout_s);
        if (!isfinite(o->margin_s) || o->margin_s < 0)
            return lm_errf(err, "--margin-s: %g must be 0 or more seconds", o->margin_s);
        if (o->idle_timeout_s + o->margin_s <= 0)
            return lm_errf(err, "--idle-timeout-s plus --margin-s must be above 0");
        if (o->count == 0) return lm_errf(err, "--count: 0 makes no requests");
        *expected = (double)o->count;
        break;
    case LM__CLOSED:
        if (o->clients < 1 || o->clients > 100000)
            return lm_errf(err, "--clients: %d must be from 1 to 100000", o->clients);
        if (o->requests == 0) return lm_errf(err, "--requests: 0 makes no requests");
        *expected = (double)o->requests;
        break;
    }
    if (*expected > LM_TRACE_MAX_ROWS)
        return lm_errf(err, "the pattern makes about %.0f requests, more than a trace holds (%d)",
                       *expected, LM_TRACE_MAX_ROWS);
    return LM_OK;
}

/* ---- header keys ------------------------------------------------------- */

static int key_num(lm_trace *t, const char *k, double v, char *err) {
    char b[40];
    return lm_trace_set_key(t, k, lm__fmt_num(b, sizeof(b), v), err);
}

static int key_list(lm_trace *t, const char *k, const double *v, size_t n, char *err) {
    lm_buf b = {0};
    char x[40];
    for (size_t i = 0; i < n; i++)
        lm_buf_printf(&b, "%s%s", i ? "," : "", lm__fmt_num(x, sizeof(x), v[i]));
    int rc = b.data ? lm_trace_set_key(t, k, b.data, err) : lm_errf(err, "out of memory");
    lm_buf_free(&b);
    return rc;
}

static int set_keys(lm_trace *t, lm__pattern p, const lm_trace_gen_opts *o, char *err) {
    static const char *const arr[] = {"poisson", "constant"};
    int rc = lm_trace_set_key(t, "pattern", patterns[p], err);
    switch (p) {
    case LM__CONSTANT:
    case LM__POISSON: rc |= key_num(t, "rate_rps", o->rate_rps, err); break;
    case LM__ONOFF:
        rc |= key_num(t, "rate_rps", o->rate_rps, err);
        rc |= key_num(t, "on_s", o->on_s, err);
        rc |= key_num(t, "off_s", o->off_s, err);
        break;
    case LM__MMPP:
        rc |= key_list(t, "rates_rps", o->mmpp_rate_rps, 2, err);
        rc |= key_list(t, "sojourn_s", o->sojourn_s, 2, err);
        break;
    case LM__RAMP:
        rc |= key_num(t, "from_rps", o->from_rps, err);
        rc |= key_num(t, "to_rps", o->to_rps, err);
        break;
    case LM__STEP:
        rc |= key_list(t, "rates_rps", o->steps_rps, o->nsteps, err);
        rc |= key_num(t, "step_s", o->step_s, err);
        break;
    case LM__DELAYED:
        rc |= key_num(t, "idle_timeout_s", o->idle_timeout_s, err);
        rc |= key_num(t, "margin_s", o->margin_s, err);
        rc |= key_num(t, "spacing_s", o->idle_timeout_s + o->margin_s, err);
        rc |= key_num(t, "count", (double)o->count, err);
        break;
    case LM__CLOSED: rc |= key_num(t, "requests", (double)o->requests, err); break;
    }
    if (lm_trace_gen_uses(patterns[p], "duration"))
        rc |= key_num(t, "duration_s", o->duration_s, err);
    if (lm_trace_gen_uses(patterns[p], "arrivals"))
        rc |= lm_trace_set_key(t, "arrivals", arr[o->arrivals == LM_ARRIVALS_CONSTANT], err);
    rc |= key_num(t, "seed", (double)o->seed, err);
    if (o->mix)
        rc |= lm_trace_set_key(t, "mix", o->mix, err);
    else
        rc |= lm_trace_set_key(t, "function", o->function, err);
    return rc ? LM_ERR : LM_OK;
}

/* ---- the whole ---------------------------------------------------------- */

int lm_trace_gen(const lm_trace_gen_opts *o, lm_trace **out, char *err) {
    *out = NULL;
    int p = 0;
    while (patterns[p] && strcmp(patterns[p], o->pattern) != 0)
        p++;
    if (!patterns[p])
        return lm_errf(err,
                       "--pattern: unknown pattern '%s' (constant, poisson, onoff, mmpp, "
                       "ramp, step, delayed, closed)",
                       o->pattern);
    double expected = 0;
    if (check_params((lm__pattern)p, o, &expected, err) != LM_OK) return LM_ERR;
    char e[LM_ERRLEN];
    if (lm_trace_check_payload(o->payload, o->dir, e) != LM_OK)
        return lm_errf(err, "--payload: %s", e);
    int closed = p == LM__CLOSED;
    mixer *m = calloc(1, sizeof(*m));
    if (!m) return lm_errf(err, "out of memory");
    m->t = lm_trace_new(closed ? LM_TRACE_CLOSED : LM_TRACE_OPEN, o->clients, o->dir);
    m->start = o->start;
    /* The choice stream is the arrival stream's seed plus 2^63: splitmix64
     * streams that far apart never overlap. */
    m->rng.s = o->seed + (1ull << 63);
    int added, rc = LM_ERR;
    if (!m->t) {
        lm_errf(err, "out of memory");
        goto done;
    }
    if (!(m->payload = lm__trace_payload(m->t, o->payload, &added, e))) {
        lm_errf(err, "--payload: %s", e);
        goto done;
    }
    const char *rt = o->runtime ? o->runtime : "";
    if (lm_trace_check_runtime(rt, e) != LM_OK) {
        lm_errf(err, "--runtime: %s", e);
        goto done;
    }
    if (o->mix ? parse_mix(m, o->mix, rt, err)
               : add_entry(m, o->function, rt, 1, "--function", err))
        goto done;
    if (set_keys(m->t, (lm__pattern)p, o, err) != LM_OK) goto done;
    lm_rng arrivals = {o->seed};
    if (lm__pattern_run((lm__pattern)p, o, &arrivals, emit_row, m, err) != LM_OK) goto done;
    if (m->t->nrows == 0) {
        lm_errf(err, "pattern %s makes no requests with these parameters (a rate of 0?)",
                patterns[p]);
        goto done;
    }
    *out = m->t;
    m->t = NULL;
    rc = LM_OK;
done:
    lm_trace_free(m->t);
    free(m);
    return rc;
}
