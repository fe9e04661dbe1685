/* synth.c -- synthetic Azure Functions files (azure.h), made from a seed
 * with the real files' columns and made-up names, so that tests and the
 * samples in tests/data/traces/ need nothing from the real data sets. The
 * counts and durations follow simple documented processes (docs/trace.md),
 * not the real trace's statistics. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "trace/internal.h"

void lm_azure_synth_defaults(lm_azure_synth_opts *o) {
    o->seed = 1;
    o->functions = 12;
    o->minutes = LM_AZURE2019_MINUTES;
    o->duration_s = 600;
}

static const char *const triggers[] = {"http",    "timer",         "queue", "event",
                                       "storage", "orchestration", "others"};

/* Log-uniform in [lo, hi]. */
static double log_uniform(lm_rng *r, double lo, double hi) {
    return exp(log(lo) + lm_rng_open01(r) * (log(hi) - log(lo)));
}

static int check(const lm_azure_synth_opts *o, char *err) {
    if (o->functions < 1 || o->functions > 1000)
        return lm_errf(err, "--functions: %zu must be from 1 to 1000", o->functions);
    if (o->minutes < 1 || o->minutes > LM_AZURE2019_MINUTES)
        return lm_errf(err, "--minutes: %d must be from 1 to %d", o->minutes, LM_AZURE2019_MINUTES);
    if (!(o->duration_s > 0 && o->duration_s <= 86400))
        return lm_errf(err, "--duration: %g must be above 0 and at most 86400 s", o->duration_s);
    return LM_OK;
}

/* Function i's counts per minute: a timer fires every p minutes; http,
 * event and others are Poisson with a daily swing of +-50 %; queue,
 * storage and orchestration are on/off by minute (on: Poisson, off: 0). */
static uint64_t counts(lm_rng *r, size_t i, int minutes, uint32_t *c) {
    const char *trig = triggers[i % 7];
    double mean = log_uniform(r, 0.05, 20), phase = lm_rng_open01(r) * 2 * M_PI;
    uint64_t period = 1 + lm_rng_below(r, 30), at = lm_rng_below(r, period), total = 0;
    int on = 0;
    for (int m = 0; m < minutes; m++) {
        if (strcmp(trig, "timer") == 0)
            c[m] = (uint64_t)m % period == at;
        else if (!strcmp(trig, "http") || !strcmp(trig, "event") || !strcmp(trig, "others"))
            c[m] = (uint32_t)lm__poisson(r, mean * (1 + 0.5 * sin(2 * M_PI * m / 1440 + phase)));
        else {
            on = on ? lm_rng_open01(r) > 0.1 : lm_rng_open01(r) < 0.02;
            c[m] = on ? (uint32_t)lm__poisson(r, 3 * mean) : 0;
        }
        total += c[m];
    }
    return total;
}

int lm_azure_synth2019(FILE *inv, FILE *dur, const lm_azure_synth_opts *o, char *err) {
    if (check(o, err) != LM_OK) return LM_ERR;
    uint32_t *c = malloc((size_t)o->minutes * sizeof(*c));
    if (!c) return lm_errf(err, "out of memory");
    lm_rng r = {o->seed};
    fputs("HashOwner,HashApp,HashFunction,Trigger", inv);
    for (int m = 1; m <= o->minutes; m++)
        fprintf(inv, ",%d", m);
    fputc('\n', inv);
    fputs("HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,percentile_Average_0,"
          "percentile_Average_1,percentile_Average_25,percentile_Average_50,"
          "percentile_Average_75,percentile_Average_99,percentile_Average_100\n",
          dur);
    for (size_t i = 0; i < o->functions; i++) {
        char id[96];
        snprintf(id, sizeof(id), "synth-owner-%02zu,synth-app-%02zu,synth-func-%02zu", i / 3, i / 2,
                 i);
        uint64_t total = counts(&r, i, o->minutes, c);
        fprintf(inv, "%s,%s", id, triggers[i % 7]);
        for (int m = 0; m < o->minutes; m++)
            fprintf(inv, ",%u", c[m]);
        fputc('\n', inv);
        /* Durations: a mean log-uniform in 1 ms .. 30 s, the rest around it. */
        double avg = floor(log_uniform(&r, 1, 30000));
        static const double q[] = {0.25, 0.4, 0.7, 0.9, 1.1, 2, 3};
        fprintf(dur, "%s,%.0f,%llu,%.0f,%.0f", id, avg, (unsigned long long)total, avg * q[0],
                avg * q[6]);
        for (int k = 0; k < 7; k++)
            fprintf(dur, ",%.0f", avg * q[k]);
        fputc('\n', dur);
    }
    free(c);
    return ferror(inv) || ferror(dur) ? lm_errf(err, "cannot write the synthetic files") : LM_OK;
}

typedef struct {
    double end;
    double dur;
    uint32_t fn;
} call;

static int by_end(const void *x, const void *y) {
    const call *a = x, *b = y;
    if (a->end != b->end) return a->end < b->end ? -1 : 1;
    return a->fn < b->fn ? -1 : a->fn > b->fn;
}

int lm_azure_synth2021(FILE *out, const lm_azure_synth_opts *o, char *err) {
    if (check(o, err) != LM_OK) return LM_ERR;
    lm_rng r = {o->seed};
    call *v = NULL;
    size_t n = 0, cap = 0;
    /* Each function: Poisson arrivals at a rate log-uniform in 0.005..1
     * per second, durations Exp around a mean log-uniform in 5 ms .. 20 s,
     * the trace's clock starting at 3600 s. */
    for (size_t i = 0; i < o->functions; i++) {
        double rate = log_uniform(&r, 0.005, 1), mean = log_uniform(&r, 0.005, 20);
        for (double t = lm__exp1(&r) / rate; t < o->duration_s; t += lm__exp1(&r) / rate) {
            if (n == cap) {
                cap = cap ? cap * 2 : 1024;
                call *w = realloc(v, cap * sizeof(*w));
                if (!w) {
                    free(v);
                    return lm_errf(err, "out of memory");
                }
                v = w;
            }
            double d = floor(mean * lm__exp1(&r) * 1000 + 0.5) / 1000;
            v[n++] = (call){3600 + t + d, d, (uint32_t)i};
        }
    }
    qsort(v, n, sizeof(*v), by_end);
    fputs("app,func,end_timestamp,duration\n", out);
    for (size_t k = 0; k < n; k++)
        fprintf(out, "synth-app-%02u,synth-func-%02u,%.6f,%.3f\n", v[k].fn / 2, v[k].fn, v[k].end,
                v[k].dur);
    free(v);
    return ferror(out) ? lm_errf(err, "cannot write the synthetic file") : LM_OK;
}
