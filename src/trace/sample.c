/* sample.c -- the sampling primitives and number formats of the trace room
 * (internal.h); docs/trace.md states each method. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "trace/internal.h"
#include "util/hash.h"

double lm__exp1(lm_rng *r) { return -log(lm_rng_open01(r)); }

uint64_t lm__poisson(lm_rng *r, double mean) {
    if (!(mean > 0)) return 0;
    double u = lm_rng_open01(r), p = exp(-mean), cdf = p;
    uint64_t k = 0;
    /* The CDF's tail beyond k = mean + 40 sqrt(mean) + 40 is far below
     * 2^-53, where u cannot reach. */
    uint64_t cap = (uint64_t)(mean + 40 * sqrt(mean) + 40);
    while (u > cdf && k < cap) {
        k++;
        p *= mean / (double)k;
        cdf += p;
    }
    return k;
}

uint64_t lm__stream_seed(uint64_t seed, const char *name) {
    return seed ^ lm_fnv1a64(LM_FNV1A64_INIT, name, strlen(name));
}

char *lm__fmt_num(char *out, size_t n, double v) {
    /* Whole numbers in full ("50", not "5e+01"). */
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(out, n, "%.0f", v);
        return out;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, v);
        if (strtod(out, NULL) == v) break;
    }
    return out;
}

int lm__parse_num(const char *s, double *out) {
    char *end;
    if (!s || !*s || strchr(" \t\n", *s)) return LM_ERR;
    double v = strtod(s, &end);
    if (*end || !isfinite(v)) return LM_ERR;
    *out = v;
    return LM_OK;
}

int lm__parse_uint(const char *s, uint64_t max, uint64_t *out) {
    if (!s || !*s) return LM_ERR;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return LM_ERR;
        unsigned d = (unsigned)(*p - '0');
        if (d > max || v > (max - d) / 10) return LM_ERR;
        v = v * 10 + d;
    }
    *out = v;
    return LM_OK;
}
