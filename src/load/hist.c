/* hist.c -- the log-linear histogram (hist.h).
 *
 * Layout: with b sub-bucket bits (S = 2^b buckets, H = S/2), index v for
 * v < S; above, a value of highest bit m has shift k = m - (b - 1) >= 1
 * and index S + (k - 1) * H + (v >> k) - H. Bucket k covers
 * [H << k, S << k) in H steps of 2^k. */
#include "load/hist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct lm_hist {
    int digits;
    unsigned bits;      /* b */
    uint64_t sub, half; /* S, H */
    uint64_t max_value;
    size_t nbuckets;
    uint64_t count, overflow, min, max;
    uint64_t sum_lo, sum_hi; /* 128-bit exact sum */
    uint64_t *counts;
};

static size_t index_of(const lm_hist *h, uint64_t v) {
    if (v < h->sub) return (size_t)v;
    unsigned m = 63u - (unsigned)__builtin_clzll(v);
    unsigned k = m - (h->bits - 1);
    return (size_t)(h->sub + (k - 1) * h->half + ((v >> k) - h->half));
}

/* The lowest value of bucket i, and (in *width) how many values it holds. */
static uint64_t bucket_low(const lm_hist *h, size_t i, uint64_t *width) {
    if (i < h->sub) {
        *width = 1;
        return i;
    }
    uint64_t j = i - h->sub;
    unsigned k = (unsigned)(j / h->half) + 1;
    *width = 1ull << k;
    return (j % h->half + h->half) << k;
}

lm_hist *lm_hist_new(int digits, uint64_t max_value, char *err) {
    if (digits < 1 || digits > 5) {
        lm_errf(err, "histogram: significant digits must be 1 to 5, not %d", digits);
        return NULL;
    }
    if (max_value == 0) max_value = LM_HIST_HOUR_NS;
    uint64_t need = 2;
    for (int i = 0; i < digits; i++)
        need *= 10;
    unsigned bits = 1;
    while ((1ull << bits) < need)
        bits++;
    if (max_value < (1ull << bits)) max_value = 1ull << bits;
    lm_hist *h = calloc(1, sizeof(*h));
    if (!h) goto oom;
    h->digits = digits;
    h->bits = bits;
    h->sub = 1ull << bits;
    h->half = h->sub / 2;
    h->max_value = max_value;
    h->nbuckets = index_of(h, max_value) + 1;
    h->counts = calloc(h->nbuckets, sizeof(uint64_t));
    if (!h->counts) goto oom;
    return h;
oom:
    free(h);
    lm_errf(err, "histogram: out of memory");
    return NULL;
}

void lm_hist_free(lm_hist *h) {
    if (!h) return;
    free(h->counts);
    free(h);
}

void lm_hist_reset(lm_hist *h) {
    memset(h->counts, 0, h->nbuckets * sizeof(uint64_t));
    h->count = h->overflow = h->min = h->max = h->sum_lo = h->sum_hi = 0;
}

void lm_hist_record(lm_hist *h, uint64_t v) {
    if (v > h->max_value) {
        v = h->max_value;
        h->overflow++;
    }
    h->counts[index_of(h, v)]++;
    if (h->count == 0 || v < h->min) h->min = v;
    if (v > h->max) h->max = v;
    h->count++;
    h->sum_lo += v;
    if (h->sum_lo < v) h->sum_hi++;
}

int lm_hist_merge(lm_hist *dst, const lm_hist *src, char *err) {
    if (dst->digits != src->digits || dst->max_value != src->max_value)
        return lm_errf(err,
                       "histogram merge: %d digits up to %llu ns and %d digits up to %llu ns "
                       "cannot be added: make both with the same settings",
                       dst->digits, (unsigned long long)dst->max_value, src->digits,
                       (unsigned long long)src->max_value);
    if (src->count == 0) return LM_OK;
    for (size_t i = 0; i < dst->nbuckets; i++)
        dst->counts[i] += src->counts[i];
    if (dst->count == 0 || src->min < dst->min) dst->min = src->min;
    if (src->max > dst->max) dst->max = src->max;
    dst->count += src->count;
    dst->overflow += src->overflow;
    uint64_t lo = dst->sum_lo + src->sum_lo;
    dst->sum_hi += src->sum_hi + (lo < dst->sum_lo);
    dst->sum_lo = lo;
    return LM_OK;
}

uint64_t lm_hist_percentile(const lm_hist *h, double p) {
    if (h->count == 0) return 0;
    if (!(p > 0)) p = 0;
    if (p >= 100) return h->max;
    /* Nearest rank ceil(p/100 * n) in integers, p taken to 1e-4 percent,
     * so that 99.99% of 10000 values is rank 9999 and not 10000. */
    uint64_t ppm = (uint64_t)llround(p * 1e4); /* parts per million */
    unsigned __int128 num = (unsigned __int128)ppm * h->count;
    uint64_t rank = (uint64_t)((num + 999999) / 1000000);
    if (rank < 1) rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < h->nbuckets; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t w, lo = bucket_low(h, i, &w);
            uint64_t hi = lo + (w - 1);
            if (hi > h->max) hi = h->max;
            return hi;
        }
    }
    return h->max;
}

double lm_hist_mean(const lm_hist *h) {
    if (h->count == 0) return 0;
    return ((double)h->sum_hi * 18446744073709551616.0 + (double)h->sum_lo) / (double)h->count;
}

uint64_t lm_hist_count(const lm_hist *h) { return h->count; }
uint64_t lm_hist_min(const lm_hist *h) { return h->min; }
uint64_t lm_hist_max(const lm_hist *h) { return h->max; }
uint64_t lm_hist_overflow(const lm_hist *h) { return h->overflow; }
double lm_hist_precision(const lm_hist *h) { return 1.0 / (double)h->half; }

uint64_t lm_hist_lowest_equivalent(const lm_hist *h, uint64_t v) {
    uint64_t w;
    return bucket_low(h, index_of(h, v > h->max_value ? h->max_value : v), &w);
}

uint64_t lm_hist_highest_equivalent(const lm_hist *h, uint64_t v) {
    uint64_t w, lo = bucket_low(h, index_of(h, v > h->max_value ? h->max_value : v), &w);
    return lo + (w - 1);
}
