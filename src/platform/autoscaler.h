/* autoscaler.h -- the decision half of a Knative-KPA-style autoscaler for
 * `lumos serve`: pure arithmetic on the times and values it is given (no
 * clock, no I/O, no event loop), so the pool owns every side effect and the
 * tests can replay any history exactly. docs/autoscaler.md explains the
 * algorithm, where it follows Knative's KPA and where it differs.
 *
 * Use: the pool makes one lm_kpa per service, calls lm_kpa_observe on every
 * change of the service's observed concurrency (requests running on its
 * instances plus requests waiting in its queue), and every tick calls
 * lm_kpa_decide with the number of instances ready or starting; it then
 * starts or stops instances to reach desired.
 *
 * Averages. The concurrency is a step function of time; its integral is kept
 * exactly (to the nanosecond of each observe, nothing is sampled) in a ring
 * of fixed buckets of panic_window/10 each, enough of them to cover the
 * stable window: memory is fixed at creation (at most 1002 doubles) whatever
 * the request rate. A window average is the integral over [now - window,
 * now] divided by the window's length, where
 *  - the concurrency in force at now counts up to now;
 *  - a window longer than the time since lm_kpa_new covers only the time
 *    that exists (a 10 s old service's 60 s average is over those 10 s);
 *  - the oldest bucket, when the window starts inside it, counts pro rata
 *    (exact when the concurrency was constant within it; otherwise off by
 *    at most that bucket's share, and never zero while it held any load);
 *  - rounding never takes an average above the largest concurrency seen.
 *
 * Decision (Knative's KPA, with the differences marked in the docs):
 *   desired_stable = ceil(stable_avg / target)   (0 only when stable_avg == 0)
 *   desired_panic  = ceil(panic_avg / target)    (ceil ignores 1e-6 of noise)
 *   panic starts when desired_panic >= panic_threshold * max(ready, 1), and
 *   ends at the first decision with no such condition for a whole stable
 *   window since the last one seen.
 *   In panic:  desired = max(desired_stable, desired_panic, previous desired)
 *              (never scales down while panicking).
 *   Otherwise: desired = max(desired_stable, floor(ready / max_scale_down_rate))
 *              (one decision at most divides the instances by the rate; from
 *              one instance this allows 0, so zero is reached only after a
 *              stable window with no load at all, stable_avg == 0).
 *   Finally desired is clamped to [min_scale, max_scale].
 * The decision before the first one counts as {desired = min_scale, no panic}.
 *
 * Times are CLOCK_MONOTONIC ns (lm_now_ns()) that never decrease; a time
 * earlier than the latest one given (or than lm_kpa_new's) counts as that
 * latest time.
 * One lm_kpa is not thread-safe: one thread (the pool's loop) uses it. */
#ifndef LM_AUTOSCALER_H
#define LM_AUTOSCALER_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

typedef struct {
    double target;              /* concurrency per instance aimed at, > 0 (default 1.0) */
    int stable_window_ms;       /* default 60000 */
    int panic_window_ms;        /* default 6000 (10% of stable); <= stable, >= tick, and
                                 * >= stable/100 (bucket width is panic_window/10) */
    double panic_threshold;     /* default 2.0, > 1: panic when the panic window asks for
                                 * >= this x max(ready, 1) instances */
    double max_scale_down_rate; /* default 2.0, > 1: one decision leaves at least
                                 * floor(ready / this) instances */
    int tick_ms;                /* default 2000: how often the pool decides (> 0) */
    int min_scale, max_scale;   /* bounds of desired: 0 <= min_scale <= max_scale, max_scale
                                 * >= 1 (defaults 0 and 4, as lumos serve) */
} lm_kpa_config;

/* Fills c with the defaults above. */
void lm_kpa_config_defaults(lm_kpa_config *c);
/* LM_OK, or LM_ERR with a message in err (LM_ERRLEN bytes, may be NULL)
 * naming the first bad field, its value and the rule it breaks. */
int lm_kpa_config_check(const lm_kpa_config *c, char *err);

typedef struct lm_kpa lm_kpa;

/* A new autoscaler whose history starts at now_ns with concurrency 0 (the
 * config is copied). NULL when out of memory, or when c is NULL or fails
 * lm_kpa_config_check. Free with lm_kpa_free. */
lm_kpa *lm_kpa_new(const lm_kpa_config *c, uint64_t now_ns);
/* Frees k; NULL is a harmless no-op. */
void lm_kpa_free(lm_kpa *k);
/* The observed concurrency became `concurrency` at now_ns (now_ns never
 * decreases; a negative concurrency counts as 0). O(1), except after a gap
 * longer than a bucket: O(buckets passed), at most the ring's size. */
void lm_kpa_observe(lm_kpa *k, uint64_t now_ns, int concurrency);

typedef struct {
    int desired;        /* instances wanted, within [min_scale, max_scale] */
    int ready;          /* as passed in */
    int panic;          /* 1 while in panic mode */
    int panic_started;  /* 1 when this decision entered panic mode */
    int panic_ended;    /* 1 when this decision left it */
    double stable_avg;  /* time-weighted average concurrency over the stable window */
    double panic_avg;   /* ... over the panic window */
    int changed;        /* desired differs from the previous decision, or panic mode changed */
    int desired_stable; /* ceil(stable_avg / target), before any limit */
    int desired_panic;  /* ceil(panic_avg / target), before any limit */
    /* The rule that set desired last (a static string): "panic" (the panic
     * rule), "stable" (desired_stable), "scale_down_limit" (raised to
     * floor(ready / max_scale_down_rate)), "min_scale" or "max_scale"
     * (clamped). */
    const char *reason;
} lm_kpa_decision;

/* Decides at now_ns; ready = instances ready or starting now (negative
 * counts as 0). Fills *out and remembers the decision as the previous one.
 * O(buckets in the stable window). */
void lm_kpa_decide(lm_kpa *k, uint64_t now_ns, int ready, lm_kpa_decision *out);

/* The decision as one JSON object (for the events table), e.g.
 * {"desired":4,"ready":1,"panic":true,"panic_started":true,"panic_ended":false,
 *  "desired_stable":2,"desired_panic":4,"stable_avg":1.818,"panic_avg":4.000,
 *  "reason":"panic"}
 * (averages with 3 decimals). Returns the length it needs, without the NUL
 * (snprintf semantics: the output is cut when that is >= n; out may be NULL
 * when n is 0). */
int lm_kpa_decision_json(const lm_kpa_decision *d, char *out, size_t n);

/* Instances for an average: 0 when avg <= 0, else ceil(avg / target - 1e-6)
 * but at least 1, at most INT_MAX. (The rule behind desired_stable and
 * desired_panic, public for the pool and the tests.) */
int lm_kpa_instances(double avg, double target);

#endif
