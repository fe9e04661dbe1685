/* hist.h -- a small HDR-style (log-linear) histogram of uint64 nanosecond
 * values, for the load client's latencies. Values below 2^b (b the
 * sub-bucket bits, 2^b >= 2 * 10^digits) are counted exactly; above, each
 * power of two is split into 2^(b-1) equal buckets, so a bucket is never
 * wider than 1/2^(b-1) of its lowest value: with 3 significant digits
 * (b = 11) every value is known to 1/1024 (< 0.1%) of itself. The range is
 * 0 .. max_value (1 h by default); a larger value is counted at max_value
 * and in lm_hist_overflow. Count, sum (for the mean), min and max are
 * exact.
 *
 * Percentiles are nearest-rank: the value v of rank ceil(p/100 * count)
 * among the recorded ones, reported as the highest value of v's bucket
 * (as HdrHistogram does: never below v, above it by less than v's
 * relative precision), and never above the exact max. p = 100 is the max.
 *
 * Not thread-safe: one histogram per thread, merged after (wrk2's way). */
#ifndef LM_LOAD_HIST_H
#define LM_LOAD_HIST_H

#include <stdint.h>

#include "util/util.h"

#define LM_HIST_HOUR_NS 3600000000000ull

typedef struct lm_hist lm_hist;

/* A new empty histogram of digits significant decimal digits (1..5) for
 * values up to max_value ns (0: 1 h; at least 2^b). Returns it (the
 * caller frees it with lm_hist_free) or NULL with err set (bad arguments,
 * out of memory). */
lm_hist *lm_hist_new(int digits, uint64_t max_value, char *err);
/* Frees it. NULL is a harmless no-op. */
void lm_hist_free(lm_hist *h);
/* Forgets every value recorded. */
void lm_hist_reset(lm_hist *h);

/* Counts value v once. */
void lm_hist_record(lm_hist *h, uint64_t v);
/* Adds every value of src into dst. LM_OK, or LM_ERR with err when their
 * digits or ranges differ. */
int lm_hist_merge(lm_hist *dst, const lm_hist *src, char *err);

/* The percentile p (0..100) as described above; 0 when empty. */
uint64_t lm_hist_percentile(const lm_hist *h, double p);
/* Exact mean of the recorded values (0 when empty). */
double lm_hist_mean(const lm_hist *h);
uint64_t lm_hist_count(const lm_hist *h);
uint64_t lm_hist_min(const lm_hist *h); /* 0 when empty */
uint64_t lm_hist_max(const lm_hist *h); /* 0 when empty */
/* Values that were above max_value (counted at max_value). */
uint64_t lm_hist_overflow(const lm_hist *h);
/* The stated relative precision: a reported percentile r of true value v
 * has v <= r <= v + v * lm_hist_precision(h). 1/2^(b-1). */
double lm_hist_precision(const lm_hist *h);
/* The lowest and highest value of the bucket v falls in (what v is known
 * as); for tests and for readers of the method. */
uint64_t lm_hist_lowest_equivalent(const lm_hist *h, uint64_t v);
uint64_t lm_hist_highest_equivalent(const lm_hist *h, uint64_t v);

#endif
