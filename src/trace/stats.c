/* stats.c -- what a trace holds (trace.h): rows, span, rate, inter-arrival
 * times, rows per function and runtime. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "trace/internal.h"

static int by_count(const void *a, const void *b) {
    const lm_trace_count *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Counts the rows per function (or runtime) into a sorted array. Rows
 * share interned names (one pointer per name), and there are few (built-in
 * functions, runtimes): a linear scan of the distinct pointers is enough. */
static int count_names(const lm_trace *t, int runtime, lm_trace_count **out, size_t *n) {
    size_t cap = 16;
    lm_trace_count *v = calloc(cap, sizeof(*v));
    *n = 0;
    if (!v) return LM_ERR;
    for (size_t i = 0; i < t->nrows; i++) {
        const char *s = runtime ? t->rows[i].runtime : t->rows[i].function;
        size_t k = 0;
        while (k < *n && v[k].name != s)
            k++;
        if (k == *n) {
            if (*n == cap) {
                lm_trace_count *w = realloc(v, 2 * cap * sizeof(*w));
                if (!w) {
                    free(v);
                    return LM_ERR;
                }
                v = w;
                cap *= 2;
            }
            v[(*n)++] = (lm_trace_count){s, 0};
        }
        v[k].count++;
    }
    qsort(v, *n, sizeof(*v), by_count);
    *out = v;
    return LM_OK;
}

int lm_trace_stats_of(const lm_trace *t, lm_trace_stats *s, char *err) {
    memset(s, 0, sizeof(*s));
    s->rows = t->nrows;
    if (t->nrows) {
        s->first_us = t->rows[0].offset_us;
        s->last_us = t->rows[t->nrows - 1].offset_us;
    }
    s->duration_s = (double)s->last_us / 1e6;
    for (size_t i = 0; i < t->nrows; i++) {
        lm_trace_start st = t->rows[i].start;
        if (st == LM_START_COLD)
            s->cold++;
        else if (st == LM_START_WARM)
            s->warm++;
        else
            s->any++;
    }
    if (t->mode == LM_TRACE_OPEN && t->nrows >= 2) {
        double n = (double)(t->nrows - 1), sum = 0, sq = 0;
        for (size_t i = 1; i < t->nrows; i++) {
            double g = (double)(t->rows[i].offset_us - t->rows[i - 1].offset_us);
            sum += g;
        }
        double mean = sum / n;
        for (size_t i = 1; i < t->nrows; i++) {
            double d = (double)(t->rows[i].offset_us - t->rows[i - 1].offset_us) - mean;
            sq += d * d;
        }
        s->iat_mean_us = mean;
        s->iat_cv = mean > 0 ? sqrt(sq / n) / mean : 0;
        s->mean_rate_rps = sum > 0 ? n / (sum / 1e6) : 0;
    }
    if (count_names(t, 0, &s->functions, &s->nfunctions) != LM_OK ||
        count_names(t, 1, &s->runtimes, &s->nruntimes) != LM_OK) {
        lm_trace_stats_free(s);
        return lm_errf(err, "out of memory");
    }
    return LM_OK;
}

void lm_trace_stats_free(lm_trace_stats *s) {
    if (!s) return;
    free(s->functions);
    free(s->runtimes);
    memset(s, 0, sizeof(*s));
}
