/* autoscaler.c -- Knative-KPA-style scaling decisions from time-weighted
 * concurrency averages (see autoscaler.h and docs/autoscaler.md). */
#include "platform/autoscaler.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define NS_PER_MS 1000000ull
/* Buckets per panic window: the panic window's average is then exact up to
 * one tenth of it at its oldest end (see window_avg). */
#define BUCKETS_PER_PANIC 10
/* Below this, a ratio over an integer is float noise (2.0000001 is 2). */
#define EPS 1e-6

struct lm_kpa {
    lm_kpa_config cfg;
    uint64_t start;     /* lm_kpa_new's time: averages never reach before it */
    uint64_t last;      /* time up to which the buckets hold the integral */
    uint64_t width;     /* bucket width, ns */
    uint64_t stable_ns; /* window lengths, ns */
    uint64_t panic_ns;
    int conc;           /* concurrency in force since last */
    int max_seen;       /* largest concurrency ever in force */
    int prev_desired;   /* the previous decision */
    int panic;          /* in panic mode */
    uint64_t last_over; /* the last decision that saw the panic condition */
    size_t n;           /* ring size */
    double bucket[];    /* bucket j (of [j*width, (j+1)*width) after start) is at
                         * j % n: concurrency x ns */
};

void lm_kpa_config_defaults(lm_kpa_config *c) {
    c->target = 1.0;
    c->stable_window_ms = 60000;
    c->panic_window_ms = 6000;
    c->panic_threshold = 2.0;
    c->max_scale_down_rate = 2.0;
    c->tick_ms = 2000;
    c->min_scale = 0;
    c->max_scale = 4;
}

int lm_kpa_config_check(const lm_kpa_config *c, char *err) {
    if (!c) return lm_errf(err, "autoscaler: no configuration");
    if (!(c->target > 0) || !isfinite(c->target))
        return lm_errf(err, "autoscaler: target is %g: it must be a finite number > 0", c->target);
    if (c->tick_ms <= 0)
        return lm_errf(err, "autoscaler: tick_ms is %d: it must be > 0", c->tick_ms);
    if (c->stable_window_ms <= 0)
        return lm_errf(err, "autoscaler: stable_window_ms is %d: it must be > 0",
                       c->stable_window_ms);
    if (c->panic_window_ms < c->tick_ms)
        return lm_errf(err, "autoscaler: panic_window_ms is %d: it must be >= tick_ms (%d)",
                       c->panic_window_ms, c->tick_ms);
    if (c->panic_window_ms > c->stable_window_ms)
        return lm_errf(err,
                       "autoscaler: panic_window_ms is %d: it must be <= stable_window_ms (%d)",
                       c->panic_window_ms, c->stable_window_ms);
    /* Bounds the ring (10 buckets per panic window) to 1000 buckets. */
    if ((long long)c->panic_window_ms * 100 < c->stable_window_ms)
        return lm_errf(err,
                       "autoscaler: panic_window_ms is %d: it must be at least 1%% of "
                       "stable_window_ms (%d)",
                       c->panic_window_ms, c->stable_window_ms);
    if (!(c->panic_threshold > 1.0) || !isfinite(c->panic_threshold))
        return lm_errf(err, "autoscaler: panic_threshold is %g: it must be a finite number > 1",
                       c->panic_threshold);
    if (!(c->max_scale_down_rate > 1.0) || !isfinite(c->max_scale_down_rate))
        return lm_errf(err, "autoscaler: max_scale_down_rate is %g: it must be a finite number > 1",
                       c->max_scale_down_rate);
    if (c->min_scale < 0)
        return lm_errf(err, "autoscaler: min_scale is %d: it must be >= 0", c->min_scale);
    if (c->max_scale < 1)
        return lm_errf(err, "autoscaler: max_scale is %d: it must be >= 1", c->max_scale);
    if (c->min_scale > c->max_scale)
        return lm_errf(err, "autoscaler: min_scale is %d: it must be <= max_scale (%d)",
                       c->min_scale, c->max_scale);
    return LM_OK;
}

lm_kpa *lm_kpa_new(const lm_kpa_config *c, uint64_t now_ns) {
    if (lm_kpa_config_check(c, NULL) != LM_OK) return NULL;
    uint64_t width = (uint64_t)c->panic_window_ms * NS_PER_MS / BUCKETS_PER_PANIC;
    uint64_t stable_ns = (uint64_t)c->stable_window_ms * NS_PER_MS;
    /* A window of W ns touches at most ceil(W / width) + 1 buckets; one spare. */
    size_t n = (size_t)((stable_ns + width - 1) / width) + 2;
    lm_kpa *k = calloc(1, sizeof *k + n * sizeof k->bucket[0]);
    if (!k) return NULL;
    k->cfg = *c;
    k->start = k->last = now_ns;
    k->width = width;
    k->stable_ns = stable_ns;
    k->panic_ns = (uint64_t)c->panic_window_ms * NS_PER_MS;
    k->prev_desired = c->min_scale;
    k->n = n;
    return k;
}

void lm_kpa_free(lm_kpa *k) { free(k); }

static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }
static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* Adds the concurrency in force from last to now into the buckets. Buckets
 * after last's are new: they still hold what was there n buckets ago, so
 * each is cleared before it is added to. After a gap longer than the ring,
 * only the last n buckets matter. */
static void advance(lm_kpa *k, uint64_t now) {
    if (now <= k->last) return;
    uint64_t a = k->last - k->start, b = now - k->start;
    uint64_t ja = a / k->width, jb = b / k->width;
    uint64_t j0 = jb - ja >= k->n ? jb - k->n + 1 : ja;
    for (uint64_t j = j0; j <= jb; j++) {
        double *slot = &k->bucket[j % k->n];
        if (j > ja) *slot = 0;
        uint64_t lo = max_u64(a, j * k->width), hi = min_u64(b, (j + 1) * k->width);
        *slot += (double)k->conc * (double)(hi - lo);
    }
    k->last = now;
}

/* The average over the last `window` ns before k->last (or since start, when
 * that is shorter). The oldest bucket counts for the part of it inside the
 * window, pro rata. */
static double window_avg(const lm_kpa *k, uint64_t window) {
    uint64_t age = k->last - k->start;
    uint64_t len = min_u64(window, age);
    if (len == 0) return k->conc; /* no time yet: what is in force */
    uint64_t from = age - len;
    uint64_t js = from / k->width, jn = age / k->width;
    double sum = 0;
    for (uint64_t j = js; j <= jn; j++) {
        double v = k->bucket[j % k->n];
        uint64_t lo = j * k->width, hi = min_u64((j + 1) * k->width, age);
        if (j == js && from > lo) v = v * (double)(hi - from) / (double)(hi - lo);
        sum += v;
    }
    double avg = sum / (double)len;
    return avg > k->max_seen ? k->max_seen : avg;
}

void lm_kpa_observe(lm_kpa *k, uint64_t now_ns, int concurrency) {
    advance(k, now_ns);
    k->conc = concurrency > 0 ? concurrency : 0;
    if (k->conc > k->max_seen) k->max_seen = k->conc;
}

int lm_kpa_instances(double avg, double target) {
    if (!(avg > 0)) return 0;
    double x = avg / target;
    if (!(x < (double)INT_MAX)) return INT_MAX;
    double r = ceil(x - EPS);
    return r < 1 ? 1 : (int)r;
}

/* Moves the panic state for this decision; sets started/ended. */
static void update_panic(lm_kpa *k, uint64_t now, int desired_panic, int ready,
                         lm_kpa_decision *d) {
    double r = ready > 1 ? ready : 1;
    int over = (double)desired_panic >= k->cfg.panic_threshold * r - EPS;
    if (over) {
        k->last_over = now;
        if (!k->panic) d->panic_started = 1;
        k->panic = 1;
    } else if (k->panic && now - k->last_over >= k->stable_ns) {
        k->panic = 0;
        d->panic_ended = 1;
    }
    d->panic = k->panic;
}

static int max_int(int a, int b) { return a > b ? a : b; }

void lm_kpa_decide(lm_kpa *k, uint64_t now_ns, int ready, lm_kpa_decision *out) {
    lm_kpa_decision d = {0};
    advance(k, now_ns);
    uint64_t now = k->last; /* now_ns, or the latest time seen if earlier */
    d.ready = ready;
    if (ready < 0) ready = 0;
    d.stable_avg = window_avg(k, k->stable_ns);
    d.panic_avg = window_avg(k, k->panic_ns);
    d.desired_stable = lm_kpa_instances(d.stable_avg, k->cfg.target);
    d.desired_panic = lm_kpa_instances(d.panic_avg, k->cfg.target);
    update_panic(k, now, d.desired_panic, ready, &d);

    int want;
    if (k->panic) {
        want = max_int(max_int(d.desired_stable, d.desired_panic), k->prev_desired);
        d.reason = "panic";
    } else {
        int floor_down = (int)floor((double)ready / k->cfg.max_scale_down_rate + 1e-9);
        want = d.desired_stable;
        d.reason = "stable";
        if (want < floor_down) {
            want = floor_down;
            d.reason = "scale_down_limit";
        }
    }
    if (want < k->cfg.min_scale) {
        want = k->cfg.min_scale;
        d.reason = "min_scale";
    } else if (want > k->cfg.max_scale) {
        want = k->cfg.max_scale;
        d.reason = "max_scale";
    }
    d.desired = want;
    d.changed = want != k->prev_desired || d.panic_started || d.panic_ended;
    k->prev_desired = want;
    *out = d;
}

static const char *jbool(int v) { return v ? "true" : "false"; }

int lm_kpa_decision_json(const lm_kpa_decision *d, char *out, size_t n) {
    return snprintf(out, n,
                    "{\"desired\":%d,\"ready\":%d,\"panic\":%s,\"panic_started\":%s,"
                    "\"panic_ended\":%s,\"desired_stable\":%d,\"desired_panic\":%d,"
                    "\"stable_avg\":%.3f,\"panic_avg\":%.3f,\"reason\":\"%s\"}",
                    d->desired, d->ready, jbool(d->panic), jbool(d->panic_started),
                    jbool(d->panic_ended), d->desired_stable, d->desired_panic, d->stable_avg,
                    d->panic_avg, d->reason ? d->reason : "none");
}
