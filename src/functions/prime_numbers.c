/* prime_numbers.c -- the prime-numbers function: every prime up to a limit,
 * by trial division (the reference workload) or by a sieve of Eratosthenes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lumos.h"

/* The largest limit accepted: its list of 5,761,455 primes is about 52 MB of
 * JSON, which still fits in one reply frame (LM_FRAME_MAX). */
#define PRIMES_MAX_LIMIT 100000000u

/* Both methods leave their answer in the same form: a bitmap over the odd
 * numbers, bit i standing for 2i + 1, set when that number is prime. The
 * prime 2 is the one even exception and is handled on its own. At the
 * largest limit the bitmap takes 6.25 MB. */
typedef struct {
    uint64_t *words;
    uint32_t nbits; /* odd numbers 1, 3, ..., up to the limit */
} odd_bitmap;

static void bit_set(uint64_t *w, uint32_t i) { w[i >> 6] |= (uint64_t)1 << (i & 63); }
static void bit_clear(uint64_t *w, uint32_t i) { w[i >> 6] &= ~((uint64_t)1 << (i & 63)); }
static int bit_get(const uint64_t *w, uint32_t i) { return (int)((w[i >> 6] >> (i & 63)) & 1); }

/* Trial division as the reference workload does it: every odd candidate is
 * divided by the odd numbers from 3 up to its integer square root. The root
 * is kept exact without libm: it only grows with the candidate, so it is
 * raised while (r + 1)^2 still fits, which never overshoots or falls short
 * the way a rounded floating-point sqrt can at perfect squares. */
static void trial_division(odd_bitmap *m, uint32_t limit) {
    uint32_t r = 1;
    for (uint32_t c = 3; c <= limit; c += 2) {
        while ((uint64_t)(r + 1) * (r + 1) <= c)
            r++;
        int prime = 1;
        for (uint32_t d = 3; d <= r; d += 2) {
            if (c % d == 0) {
                prime = 0;
                break;
            }
        }
        if (prime) bit_set(m->words, c >> 1);
    }
}

/* The sieve of Eratosthenes over odd numbers: start with every odd number
 * marked prime, strike 1, and strike the odd multiples of each prime p from
 * p^2 on (smaller multiples have a smaller factor that struck them). */
static void sieve(odd_bitmap *m, uint32_t limit) {
    if (m->nbits == 0) return;
    size_t nwords = ((size_t)m->nbits + 63) / 64;
    memset(m->words, 0xff, nwords * sizeof(uint64_t));
    if (m->nbits % 64) m->words[nwords - 1] = ((uint64_t)1 << (m->nbits % 64)) - 1;
    bit_clear(m->words, 0);
    for (uint32_t p = 3; (uint64_t)p * p <= limit; p += 2) {
        if (!bit_get(m->words, p >> 1)) continue;
        for (uint64_t q = (uint64_t)p * p; q <= limit; q += 2 * (uint64_t)p)
            bit_clear(m->words, (uint32_t)(q >> 1));
    }
}

static uint64_t count_primes(const odd_bitmap *m, uint32_t limit) {
    uint64_t count = limit >= 2 ? 1 : 0;
    size_t nwords = ((size_t)m->nbits + 63) / 64;
    for (size_t i = 0; i < nwords; i++) {
        uint64_t w = m->words[i];
        while (w) {
            w &= w - 1;
            count++;
        }
    }
    return count;
}

/* Writes the JSON list of primes into data as one raw value. Returns LM_OK
 * or the LM_ERR of a 500 when out of memory. */
static int write_list(lm_ctx *ctx, lm_jw *data, const odd_bitmap *m, uint32_t limit,
                      uint64_t count) {
    /* Each prime takes at most as many digits as the limit, plus a comma. */
    char scratch[10];
    size_t width = lm_u64_dec(limit, scratch) + 1;
    size_t cap = (size_t)count * width + 2;
    char *buf = malloc(cap);
    if (!buf)
        return lm_fail(ctx, 500, "internal", "out of memory for %llu primes",
                       (unsigned long long)count);
    char *p = buf;
    *p++ = '[';
    if (limit >= 2) {
        *p++ = '2';
        *p++ = ',';
    }
    size_t nwords = ((size_t)m->nbits + 63) / 64;
    for (size_t i = 0; i < nwords; i++) {
        uint64_t w = m->words[i];
        while (w) {
            uint32_t bit = (uint32_t)__builtin_ctzll(w);
            w &= w - 1;
            p += lm_u64_dec(((i * 64 + bit) << 1) | 1, p);
            *p++ = ',';
        }
    }
    if (count) p--; /* the last comma */
    *p++ = ']';
    lm_jw_raw(data, buf, (size_t)(p - buf));
    free(buf);
    return LM_OK;
}

/* Reads the optional boolean `list` (default true). */
static int arg_list(lm_ctx *ctx, const lm_json *req, int *out) {
    const lm_json *v = lm_json_get(req, "list");
    *out = 1;
    if (!v) return LM_OK;
    lm_json_type t = lm_json_typeof(v);
    if (t != LM_JSON_TRUE && t != LM_JSON_FALSE)
        return lm_fail(ctx, 400, "bad_request", "field 'list' must be true or false");
    *out = t == LM_JSON_TRUE;
    return LM_OK;
}

static int handler(lm_ctx *ctx, const lm_json *req, lm_jw *data) {
    uint64_t limit64;
    const char *method;
    size_t method_len;
    int list;
    if (lm_arg_u64(ctx, req, "limit", 1, 0, 0, PRIMES_MAX_LIMIT, &limit64) != LM_OK) return LM_ERR;
    if (lm_arg_str(ctx, req, "method", 0, "trial", &method, &method_len) != LM_OK) return LM_ERR;
    /* Compared with the length, so a string with a NUL inside cannot pass. */
    int use_sieve = method_len == 5 && memcmp(method, "sieve", 5) == 0;
    if (!use_sieve && !(method_len == 5 && memcmp(method, "trial", 5) == 0))
        return lm_fail(ctx, 400, "bad_request", "field 'method' must be \"trial\" or \"sieve\"");
    if (arg_list(ctx, req, &list) != LM_OK) return LM_ERR;
    uint32_t limit = (uint32_t)limit64;

    lm_phase(ctx, LM_PHASE_COMPUTE);
    odd_bitmap m;
    m.nbits = (uint32_t)(((uint64_t)limit + 1) / 2);
    size_t nwords = ((size_t)m.nbits + 63) / 64;
    m.words = lm_scratch(ctx, (nwords ? nwords : 1) * sizeof(uint64_t));
    if (!m.words) return lm_fail(ctx, 500, "internal", "out of memory for the prime bitmap");
    memset(m.words, 0, (nwords ? nwords : 1) * sizeof(uint64_t));
    if (use_sieve)
        sieve(&m, limit);
    else
        trial_division(&m, limit);
    uint64_t count = count_primes(&m, limit);

    lm_phase(ctx, LM_PHASE_SER);
    lm_jw_key(data, "count");
    lm_jw_u64(data, count);
    lm_jw_key(data, "method");
    lm_jw_str(data, use_sieve ? "sieve" : "trial");
    lm_jw_key(data, "limit");
    lm_jw_u64(data, limit);
    if (list) {
        lm_jw_key(data, "primes");
        if (write_list(ctx, data, &m, limit, count) != LM_OK) return LM_ERR;
    }
    return LM_OK;
}

LM_FUNCTION(lm_fn_prime_numbers, "prime-numbers", handler)
