/* rng.h -- the host's one seeded pseudo-random generator (splitmix64): the
 * same seed gives the same stream on every machine, so the data set and the
 * traces made from a seed are the same bytes everywhere. Not for secrets. */
#ifndef LM_UTIL_RNG_H
#define LM_UTIL_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s; /* the state; set it to the seed */
} lm_rng;

/* The next 64 random bits. */
uint64_t lm_rng_next(lm_rng *r);
/* Uniform in [0, n), exactly (rejection, no modulo bias); n must be > 0
 * (0 returns 0 and draws nothing). */
uint64_t lm_rng_below(lm_rng *r, uint64_t n);
/* Uniform in the open interval (0, 1): one draw's top 53 bits k give
 * (k + 0.5) / 2^53, so neither 0 nor 1 ever comes out (safe under log). */
double lm_rng_open01(lm_rng *r);

#endif
