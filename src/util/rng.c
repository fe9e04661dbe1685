/* rng.c -- splitmix64 (rng.h). */
#include "util/rng.h"

uint64_t lm_rng_next(lm_rng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t lm_rng_below(lm_rng *r, uint64_t n) {
    if (n == 0) return 0;
    /* Rejection keeps the draw exactly uniform. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do
        v = lm_rng_next(r);
    while (v >= limit);
    return v % n;
}

double lm_rng_open01(lm_rng *r) {
    return ((double)(lm_rng_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}
