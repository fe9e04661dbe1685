/* test_autoscaler.c -- the KPA-style autoscaler (src/platform/autoscaler):
 * hand-computed time-weighted averages (young and old services, a window
 * starting inside a bucket), the instance rounding, panic on a burst and
 * its hold and end, the scale-down rate limit, scale to zero only after an
 * idle stable window, clamping, every configuration error, the JSON, and a
 * seeded random history checked against an exact reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>

#include "platform/autoscaler.h"

/* ---- helpers ------------------------------------------------------------ */

/* An arbitrary monotonic origin, far from 0. */
#define T0 1000000000000ull
#define MS(x) ((uint64_t)((x)*1000000.0 + 0.5))
/* Seconds after T0. */
#define AT(s) (T0 + MS((s)*1000.0))

static lm_kpa *new_kpa(const lm_kpa_config *c) {
    lm_kpa *k = lm_kpa_new(c, T0);
    assert_non_null(k);
    return k;
}

static lm_kpa *new_default(int max_scale) {
    lm_kpa_config c;
    lm_kpa_config_defaults(&c);
    c.max_scale = max_scale;
    return new_kpa(&c);
}

static lm_kpa_decision decide(lm_kpa *k, double s, int ready) {
    lm_kpa_decision d;
    memset(&d, 0xa5, sizeof d); /* every field must be written */
    lm_kpa_decide(k, AT(s), ready, &d);
    assert_int_equal(d.ready, ready);
    assert_non_null(d.reason);
    return d;
}

static void assert_near(double got, double want) {
    if (fabs(got - want) > 1e-9) fail_msg("got %.12f, want %.12f", got, want);
}

/* ---- configuration ------------------------------------------------------ */

static void test_defaults_and_null(void **state) {
    lm_kpa_config c;
    char err[LM_ERRLEN];
    lm_kpa_config_defaults(&c);
    assert_true(c.target == 1.0);
    assert_int_equal(c.stable_window_ms, 60000);
    assert_int_equal(c.panic_window_ms, 6000);
    assert_true(c.panic_threshold == 2.0);
    assert_true(c.max_scale_down_rate == 2.0);
    assert_int_equal(c.tick_ms, 2000);
    assert_int_equal(c.min_scale, 0);
    assert_true(c.max_scale >= 1);
    assert_int_equal(lm_kpa_config_check(&c, err), LM_OK);
    assert_int_equal(lm_kpa_config_check(NULL, err), LM_ERR);
    assert_null(lm_kpa_new(NULL, T0));
    lm_kpa_free(NULL); /* a harmless no-op */
    c.target = 0;
    assert_null(lm_kpa_new(&c, T0)); /* a config that fails the check */
}

typedef struct {
    const char *field; /* must appear in the message */
    void (*mutate)(lm_kpa_config *c);
} bad_config;

static void bad_target_zero(lm_kpa_config *c) { c->target = 0; }
static void bad_target_neg(lm_kpa_config *c) { c->target = -1; }
static void bad_target_nan(lm_kpa_config *c) { c->target = NAN; }
static void bad_target_inf(lm_kpa_config *c) { c->target = INFINITY; }
static void bad_stable_zero(lm_kpa_config *c) { c->stable_window_ms = 0; }
static void bad_stable_below_panic(lm_kpa_config *c) { c->stable_window_ms = 5000; }
static void bad_tick_zero(lm_kpa_config *c) { c->tick_ms = 0; }
static void bad_panic_below_tick(lm_kpa_config *c) { c->panic_window_ms = 1999; }
static void bad_panic_zero(lm_kpa_config *c) { c->panic_window_ms = 0; }
static void bad_panic_tiny(lm_kpa_config *c) {
    c->stable_window_ms = 3600000; /* panic 6 s is under 1% of it */
}
static void bad_threshold_one(lm_kpa_config *c) { c->panic_threshold = 1.0; }
static void bad_threshold_nan(lm_kpa_config *c) { c->panic_threshold = NAN; }
static void bad_threshold_inf(lm_kpa_config *c) { c->panic_threshold = INFINITY; }
static void bad_rate_one(lm_kpa_config *c) { c->max_scale_down_rate = 1.0; }
static void bad_rate_nan(lm_kpa_config *c) { c->max_scale_down_rate = NAN; }
static void bad_min_neg(lm_kpa_config *c) { c->min_scale = -1; }
static void bad_max_zero(lm_kpa_config *c) { c->max_scale = 0; }
static void bad_min_above_max(lm_kpa_config *c) {
    c->min_scale = 5;
    c->max_scale = 3;
}

static void test_config_errors(void **state) {
    static const bad_config bad[] = {
        {"target", bad_target_zero},
        {"target", bad_target_neg},
        {"target", bad_target_nan},
        {"target", bad_target_inf},
        {"stable_window_ms", bad_stable_zero},
        {"panic_window_ms", bad_stable_below_panic}, /* panic 6000 > stable 5000 */
        {"tick_ms", bad_tick_zero},
        {"panic_window_ms", bad_panic_below_tick},
        {"panic_window_ms", bad_panic_zero},
        {"panic_window_ms", bad_panic_tiny},
        {"panic_threshold", bad_threshold_one},
        {"panic_threshold", bad_threshold_nan},
        {"panic_threshold", bad_threshold_inf},
        {"max_scale_down_rate", bad_rate_one},
        {"max_scale_down_rate", bad_rate_nan},
        {"min_scale", bad_min_neg},
        {"max_scale", bad_max_zero},
        {"min_scale", bad_min_above_max},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lm_kpa_config c;
        char err[LM_ERRLEN] = "";
        lm_kpa_config_defaults(&c);
        bad[i].mutate(&c);
        assert_int_equal(lm_kpa_config_check(&c, err), LM_ERR);
        if (!strstr(err, bad[i].field))
            fail_msg("case %zu: \"%s\" does not name %s", i, err, bad[i].field);
        assert_int_equal(lm_kpa_config_check(&c, NULL), LM_ERR); /* err may be NULL */
        assert_null(lm_kpa_new(&c, T0));
    }
    /* Edges that are allowed: panic == tick, panic == stable, 1% exactly,
     * min == max. */
    lm_kpa_config c;
    lm_kpa_config_defaults(&c);
    c.panic_window_ms = c.tick_ms;
    c.stable_window_ms = 100 * c.panic_window_ms;
    c.min_scale = c.max_scale = 2;
    assert_int_equal(lm_kpa_config_check(&c, NULL), LM_OK);
    lm_kpa_free(new_kpa(&c));
    c.stable_window_ms = c.panic_window_ms;
    assert_int_equal(lm_kpa_config_check(&c, NULL), LM_OK);
    lm_kpa_free(new_kpa(&c));
}

/* ---- averages ----------------------------------------------------------- */

/* Concurrency 2 for 3 s, then 0. */
static void test_young_averages(void **state) {
    lm_kpa *k = new_default(10);
    lm_kpa_observe(k, AT(0), 2);
    lm_kpa_observe(k, AT(3), 0);
    /* Only the time that exists counts: 1.5 s old, both windows are 2. */
    /* (ready 2: the panic threshold, 2 x 2, is never reached.) */
    lm_kpa_decision d = decide(k, 1.5, 2);
    assert_near(d.stable_avg, 2.0);
    assert_near(d.panic_avg, 2.0);
    /* 5 s old: 6 / 5 in both (the panic window is 6 s). */
    d = decide(k, 5, 2);
    assert_near(d.stable_avg, 1.2);
    assert_near(d.panic_avg, 1.2);
    /* 7 s old: stable 6 / 7; panic [1, 7] = 2 x 2 s / 6 s. The panic window
     * starts at 1 s, inside the bucket [0.6, 1.2) of constant 2: exact. */
    d = decide(k, 7, 2);
    assert_near(d.stable_avg, 6.0 / 7.0);
    assert_near(d.panic_avg, 4.0 / 6.0);
    /* 10 s old: 6 / 10 = 0.6 over the stable window, 0 over [4, 10]. */
    d = decide(k, 10, 2);
    assert_near(d.stable_avg, 0.6);
    assert_true(d.panic_avg == 0);
    assert_int_equal(d.desired_stable, 1);
    assert_int_equal(d.desired_panic, 0);
    assert_int_equal(d.desired, 1);
    assert_false(d.panic);
    /* 63 s old: the stable window [3, 63] has no load any more. */
    d = decide(k, 63, 1);
    assert_true(d.stable_avg == 0);
    assert_int_equal(d.desired, 0);
    lm_kpa_free(k);
}

static void test_old_averages(void **state) {
    lm_kpa *k = new_default(10);
    /* Nothing observed: 0, and at age 0 the value in force. */
    lm_kpa_decision d = decide(k, 0, 0);
    assert_true(d.stable_avg == 0 && d.panic_avg == 0);
    lm_kpa_observe(k, AT(50), 4);
    lm_kpa_observe(k, AT(80), 1);
    /* [40, 100]: 4 x 30 s + 1 x 20 s = 140 over 60 s; panic [94, 100] = 1. */
    d = decide(k, 100, 3);
    assert_near(d.stable_avg, 140.0 / 60.0);
    assert_near(d.panic_avg, 1.0);
    assert_int_equal(d.desired_stable, 3);
    assert_int_equal(d.desired_panic, 1);
    /* The value in force counts up to the decision: 1 since 80 s. */
    d = decide(k, 200, 3);
    assert_near(d.stable_avg, 1.0);
    assert_near(d.panic_avg, 1.0);
    /* A gap much longer than the ring, with a value in force. */
    lm_kpa_observe(k, AT(5000), 7);
    d = decide(k, 9000.3, 3);
    assert_near(d.stable_avg, 7.0);
    assert_near(d.panic_avg, 7.0);
    lm_kpa_free(k);

    /* Age 0: the concurrency in force. */
    k = new_default(10);
    lm_kpa_observe(k, AT(0), 5);
    d = decide(k, 0, 5);
    assert_near(d.stable_avg, 5.0);
    assert_near(d.panic_avg, 5.0);
    lm_kpa_free(k);
}

static void test_instances(void **state) {
    assert_int_equal(lm_kpa_instances(0, 1), 0);
    assert_int_equal(lm_kpa_instances(-1, 1), 0);
    assert_int_equal(lm_kpa_instances(NAN, 1), 0);
    assert_int_equal(lm_kpa_instances(1e-12, 1), 1); /* any load wants one */
    assert_int_equal(lm_kpa_instances(1, 1), 1);
    assert_int_equal(lm_kpa_instances(2.0000001, 1), 2); /* float noise */
    assert_int_equal(lm_kpa_instances(0.1 + 0.2, 0.1), 3);
    assert_int_equal(lm_kpa_instances(2.001, 1), 3);
    assert_int_equal(lm_kpa_instances(3, 1.5), 2);
    assert_int_equal(lm_kpa_instances(3.1, 1.5), 3);
    assert_int_equal(lm_kpa_instances(1e300, 1), INT_MAX);
    assert_int_equal(lm_kpa_instances(1, 1e-300), INT_MAX);
}

/* ---- decisions ---------------------------------------------------------- */

/* One instance busy, then a burst of 10 at 20 s: panic, the desired count
 * jumps to the burst, holds while the load drops, and ends a stable window
 * after the last panic condition, going down at the rate limit. */
static void test_panic(void **state) {
    lm_kpa *k = new_default(20);
    lm_kpa_observe(k, AT(0), 1);
    lm_kpa_decision d = decide(k, 2, 0);
    assert_int_equal(d.desired, 1);
    assert_true(d.changed); /* the previous is min_scale = 0 */
    assert_false(d.panic);
    assert_string_equal(d.reason, "stable");
    for (int s = 4; s <= 20; s += 2) {
        d = decide(k, s, 1);
        assert_int_equal(d.desired, 1);
        assert_false(d.changed);
        assert_false(d.panic);
    }
    lm_kpa_observe(k, AT(20), 10);
    /* Panic [16, 22]: 1 x 4 + 10 x 2 = 24 / 6 = 4 >= 2 x 1. */
    d = decide(k, 22, 1);
    assert_near(d.panic_avg, 4.0);
    assert_near(d.stable_avg, 40.0 / 22.0);
    assert_true(d.panic && d.panic_started && !d.panic_ended && d.changed);
    assert_int_equal(d.desired, 4);
    assert_string_equal(d.reason, "panic");
    /* [18, 24]: 2 + 40 = 42 / 6 = 7 (under 2 x 4, but panic goes on). */
    d = decide(k, 24, 4);
    assert_int_equal(d.desired_panic, 7);
    assert_true(d.panic && !d.panic_started && d.changed);
    assert_int_equal(d.desired, 7);
    /* [20, 26]: 10: the burst's size. */
    d = decide(k, 26, 7);
    assert_int_equal(d.desired, 10);
    d = decide(k, 26, 10);
    assert_int_equal(d.desired, 10);
    assert_false(d.changed);
    /* The load stops: panic holds 10 for a stable window after 22 s, the
     * last decision over the threshold. */
    lm_kpa_observe(k, AT(26), 0);
    for (int s = 28; s <= 80; s += 2) {
        d = decide(k, s, 10);
        assert_true(d.panic);
        assert_false(d.panic_ended);
        assert_int_equal(d.desired, 10);
        assert_false(d.changed);
        assert_string_equal(d.reason, "panic");
    }
    assert_int_equal(d.desired_panic, 0);
    /* 82 s = 22 + 60: panic ends; stable [22, 82] = 10 x 4 / 60 -> 1, but
     * one decision leaves at least 10 / 2. */
    d = decide(k, 82, 10);
    assert_true(!d.panic && d.panic_ended && !d.panic_started && d.changed);
    assert_near(d.stable_avg, 40.0 / 60.0);
    assert_int_equal(d.desired_stable, 1);
    assert_int_equal(d.desired, 5);
    assert_string_equal(d.reason, "scale_down_limit");
    d = decide(k, 84, 5); /* [24, 84]: 20 / 60 -> 1; floor(5 / 2) = 2 */
    assert_int_equal(d.desired, 2);
    assert_false(d.panic_ended);
    d = decide(k, 86, 2); /* floor(2 / 2) = 1 */
    assert_int_equal(d.desired, 1);
    d = decide(k, 88, 1); /* [28, 88]: 0; floor(1 / 2) = 0 */
    assert_true(d.stable_avg == 0);
    assert_int_equal(d.desired, 0);
    assert_string_equal(d.reason, "stable");
    assert_true(d.changed);
    lm_kpa_free(k);
}

/* A new panic condition during panic extends it. */
static void test_panic_extends(void **state) {
    lm_kpa *k = new_default(50);
    lm_kpa_observe(k, AT(0), 4);
    lm_kpa_decision d = decide(k, 2, 1); /* 4 >= 2 x 1 */
    assert_true(d.panic_started);
    lm_kpa_observe(k, AT(2), 0);
    lm_kpa_observe(k, AT(40), 30);
    d = decide(k, 42, 4); /* [36, 42]: 60 / 6 = 10 >= 8: seen again */
    assert_true(d.panic && !d.panic_started);
    assert_int_equal(d.desired, 10);
    lm_kpa_observe(k, AT(42), 0);
    d = decide(k, 100, 10); /* 2 + 60 passed, but not 42 + 60 */
    assert_true(d.panic);
    assert_int_equal(d.desired, 10);
    d = decide(k, 102, 10);
    assert_true(d.panic_ended && !d.panic);
    lm_kpa_free(k);
}

static void test_scale_down_rate(void **state) {
    lm_kpa_config c;
    lm_kpa_config_defaults(&c);
    c.max_scale = 100;
    lm_kpa *k = new_kpa(&c);
    lm_kpa_observe(k, AT(0), 8);
    lm_kpa_observe(k, AT(100), 1);
    lm_kpa_decision d = decide(k, 200, 16); /* wants 1, may leave 8 */
    assert_int_equal(d.desired_stable, 1);
    assert_int_equal(d.desired, 8);
    assert_string_equal(d.reason, "scale_down_limit");
    d = decide(k, 202, 3); /* floor(1.5) = 1 */
    assert_int_equal(d.desired, 1);
    assert_string_equal(d.reason, "stable");
    d = decide(k, 204, 0);
    assert_int_equal(d.desired, 1);
    lm_kpa_free(k);

    c.max_scale_down_rate = 4;
    k = new_kpa(&c);
    lm_kpa_observe(k, AT(0), 1);
    d = decide(k, 100, 17); /* floor(17 / 4) = 4 */
    assert_int_equal(d.desired, 4);
    d = decide(k, 102, 4); /* floor(1) = 1 = desired_stable */
    assert_int_equal(d.desired, 1);
    lm_kpa_free(k);

    /* Scaling up is not limited (outside panic). */
    c.max_scale_down_rate = 2;
    k = new_kpa(&c);
    lm_kpa_observe(k, AT(0), 12);
    d = decide(k, 100, 10); /* 12 < 2 x 10: no panic */
    assert_false(d.panic);
    assert_int_equal(d.desired, 12);
    lm_kpa_free(k);
}

static void test_scale_to_zero(void **state) {
    /* Never loaded: zero at once. */
    lm_kpa *k = new_default(4);
    lm_kpa_decision d = decide(k, 2, 0);
    assert_int_equal(d.desired, 0);
    assert_false(d.changed);
    lm_kpa_free(k);

    /* One request from 0 to 0.1 s. */
    k = new_default(4);
    lm_kpa_observe(k, AT(0), 1);
    lm_kpa_observe(k, AT(0.1), 0);
    d = decide(k, 2, 1);
    assert_int_equal(d.desired, 1);
    d = decide(k, 60.05, 1); /* [0.05, 60.05] holds 0.05 s of load */
    assert_true(d.stable_avg > 0);
    assert_int_equal(d.desired, 1);
    /* [0.3, 60.3] has none, but starts inside the bucket [0, 0.6) that had
     * some: counted pro rata, so the answer is late, never early. */
    d = decide(k, 60.3, 1);
    assert_near(d.stable_avg, 0.1 * 0.5 / 60.0);
    assert_int_equal(d.desired, 1);
    assert_false(d.changed);
    d = decide(k, 60.6, 3); /* idle window, but 3 may only go to 1 */
    assert_true(d.stable_avg == 0);
    assert_int_equal(d.desired, 1);
    d = decide(k, 62, 1);
    assert_int_equal(d.desired, 0);
    assert_true(d.changed);
    lm_kpa_free(k);

    /* A long request in flight keeps one instance forever. */
    k = new_default(4);
    lm_kpa_observe(k, AT(0), 1);
    for (int s = 2; s <= 600; s += 2) {
        d = decide(k, s, 1);
        assert_int_equal(d.desired, 1);
    }
    lm_kpa_free(k);
}

static void test_clamp(void **state) {
    lm_kpa_config c;
    lm_kpa_config_defaults(&c);
    c.min_scale = 2;
    c.max_scale = 3;
    lm_kpa *k = new_kpa(&c);
    lm_kpa_decision d = decide(k, 2, 2);
    assert_int_equal(d.desired, 2);
    assert_string_equal(d.reason, "min_scale");
    assert_false(d.changed); /* the previous is min_scale */
    lm_kpa_observe(k, AT(2), 10);
    d = decide(k, 4, 2); /* panic [0, 4]: 20 / 4 = 5 >= 4 */
    assert_true(d.panic_started);
    assert_int_equal(d.desired, 3);
    assert_string_equal(d.reason, "max_scale");
    /* 10 for 96 s: still 10 >= 2 x 3, as ready cannot pass max_scale, so
     * panic goes on. */
    d = decide(k, 100, 3);
    assert_true(d.panic && !d.panic_started);
    assert_int_equal(d.desired, 3);
    assert_string_equal(d.reason, "max_scale");
    lm_kpa_observe(k, AT(100), 0);
    d = decide(k, 200, 3); /* 100 s calm: panic ends */
    assert_true(d.panic_ended);
    assert_int_equal(d.desired, 2);
    assert_string_equal(d.reason, "min_scale");
    lm_kpa_free(k);

    /* target 2: concurrency 5 wants 3 instances. */
    lm_kpa_config_defaults(&c);
    c.target = 2;
    c.max_scale = 10;
    k = new_kpa(&c);
    lm_kpa_observe(k, AT(0), 5);
    d = decide(k, 30, 3);
    assert_int_equal(d.desired, 3);
    lm_kpa_free(k);
}

/* Panic starts at exactly threshold x ready (as Knative's >=), with the
 * product's float noise ignored (2.2 x 25 is 55.00000000000001). */
static void test_panic_threshold_edges(void **state) {
    static const struct {
        double threshold;
        int conc, ready, panic;
    } cases[] = {
        {2.0, 4, 2, 1}, {2.0, 3, 2, 0},   {2.0, 2, 0, 1}, /* ready 0 counts as 1 */
        {2.0, 1, 0, 0}, {2.2, 55, 25, 1}, {2.2, 54, 25, 0}, {3.0, 9, 3, 1}, {3.0, 8, 3, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lm_kpa_config c;
        lm_kpa_config_defaults(&c);
        c.panic_threshold = cases[i].threshold;
        c.max_scale = 100;
        lm_kpa *k = new_kpa(&c);
        lm_kpa_observe(k, AT(0), cases[i].conc);
        lm_kpa_decision d = decide(k, 10, cases[i].ready);
        if (d.panic != cases[i].panic) fail_msg("case %zu: panic %d", i, d.panic);
        assert_int_equal(d.panic_started, cases[i].panic);
        lm_kpa_free(k);
    }
}

/* Rounding never takes an average above the largest concurrency seen (a
 * case where the pro rata oldest bucket rounds up by one ulp). */
static void test_rounding_bound(void **state) {
    lm_kpa *k = new_default(4);
    lm_kpa_observe(k, T0, 2146552761);
    lm_kpa_decision d;
    lm_kpa_decide(k, T0 + 122222633664ull, 1, &d);
    assert_true(d.stable_avg <= 2146552761.0 && d.stable_avg > 2146552760.0);
    assert_true(d.panic_avg <= 2146552761.0 && d.panic_avg > 2146552760.0);
    assert_int_equal(d.desired, 4);
    lm_kpa_free(k);
}

/* ---- JSON --------------------------------------------------------------- */

static void test_json(void **state) {
    lm_kpa *k = new_default(8);
    lm_kpa_observe(k, AT(0), 5);
    lm_kpa_decision d = decide(k, 3, 1);
    char buf[512];
    int len = lm_kpa_decision_json(&d, buf, sizeof buf);
    assert_true(len > 0 && (size_t)len < sizeof buf);
    assert_int_equal(strlen(buf), (size_t)len);
    json_error_t jerr;
    json_t *j = json_loads(buf, 0, &jerr);
    if (!j) fail_msg("not JSON: %s (%s)", buf, jerr.text);
    assert_true(json_is_object(j));
    assert_int_equal(json_integer_value(json_object_get(j, "desired")), 5);
    assert_int_equal(json_integer_value(json_object_get(j, "ready")), 1);
    assert_true(json_is_true(json_object_get(j, "panic")));
    assert_true(json_is_true(json_object_get(j, "panic_started")));
    assert_true(json_is_false(json_object_get(j, "panic_ended")));
    assert_int_equal(json_integer_value(json_object_get(j, "desired_stable")), 5);
    assert_int_equal(json_integer_value(json_object_get(j, "desired_panic")), 5);
    assert_true(json_is_number(json_object_get(j, "stable_avg")));
    assert_near(json_number_value(json_object_get(j, "stable_avg")), 5.0);
    assert_near(json_number_value(json_object_get(j, "panic_avg")), 5.0);
    assert_string_equal(json_string_value(json_object_get(j, "reason")), "panic");
    assert_int_equal(json_object_size(j), 10);
    json_decref(j);

    /* snprintf semantics: the same length when cut or not written at all. */
    char small[16];
    assert_int_equal(lm_kpa_decision_json(&d, small, sizeof small), len);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_int_equal(lm_kpa_decision_json(&d, NULL, 0), len);
    lm_kpa_free(k);
}

/* ---- property ----------------------------------------------------------- */

static uint64_t rng_state;
/* What the random histories reached (so the property is not vacuous). */
static int seen_panic, seen_panic_end, seen_zero, seen_max, seen_limit;
static uint64_t rnd(void) { /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}
static int rnd_int(int n) { return (int)(rnd() % (uint64_t)n); }

/* The exact history: concurrency c[i] from t[i] (t[0] = start, c[0] = 0). */
typedef struct {
    uint64_t *t;
    int *c;
    size_t n;
} history;

/* The exact average over [max(start, now - w), now]. */
static double exact_avg(const history *h, uint64_t now, uint64_t w) {
    uint64_t from = now - h->t[0] < w ? h->t[0] : now - w;
    if (from == now) return h->c[h->n - 1];
    double sum = 0;
    for (size_t i = h->n; i-- > 0;) {
        uint64_t lo = h->t[i], hi = i + 1 < h->n ? h->t[i + 1] : now;
        if (hi <= from) break;
        if (lo < from) lo = from;
        if (hi > lo) sum += (double)h->c[i] * (double)(hi - lo);
    }
    return sum / (double)(now - from);
}

static void one_history(int steps) {
    lm_kpa_config c;
    lm_kpa_config_defaults(&c);
    c.tick_ms = 500 + rnd_int(2000);
    c.panic_window_ms = c.tick_ms + rnd_int(10000);
    c.stable_window_ms = c.panic_window_ms * (1 + rnd_int(30)) + rnd_int(1000);
    c.target = 0.5 + rnd_int(40) / 10.0;
    c.panic_threshold = 1.1 + rnd_int(30) / 10.0;
    c.max_scale_down_rate = 1.1 + rnd_int(30) / 10.0;
    c.min_scale = rnd_int(3);
    c.max_scale = c.min_scale + 1 + rnd_int(30);
    assert_int_equal(lm_kpa_config_check(&c, NULL), LM_OK);
    lm_kpa *k = new_kpa(&c);
    history h = {calloc((size_t)steps + 1, sizeof(uint64_t)),
                 calloc((size_t)steps + 1, sizeof(int)), 1};
    assert_true(h.t && h.c);
    h.t[0] = T0;
    uint64_t now = T0, width = (uint64_t)c.panic_window_ms * 100000;
    int max_seen = 0, prev = c.min_scale, panic = 0, idle = 0;
    for (int i = 0; i < steps; i++) {
        int r = rnd_int(100);
        if (r < 3)
            now += MS(rnd_int(200000)); /* a long gap */
        else if (r > 10)
            now += (uint64_t)rnd_int(2000) * 1000000 + rnd() % 1000000;
        if (rnd_int(150) == 0) idle = !idle; /* calm spells, to reach zero */
        int conc = idle ? 0 : rnd_int(10) == 0 ? rnd_int(200) : rnd_int(8);
        if (rnd_int(50) == 0) conc = -1; /* counts as 0 */
        lm_kpa_observe(k, now, conc);
        h.t[h.n] = now;
        h.c[h.n++] = conc > 0 ? conc : 0;
        if (conc > max_seen) max_seen = conc;
        if (rnd_int(4)) continue;
        now += (uint64_t)rnd_int(3000) * 1000000;
        int ready = rnd_int(60) - 2;
        lm_kpa_decision d;
        lm_kpa_decide(k, now, ready, &d);
        assert_true(d.desired >= c.min_scale && d.desired <= c.max_scale);
        assert_true(d.stable_avg >= 0 && d.stable_avg <= max_seen);
        assert_true(d.panic_avg >= 0 && d.panic_avg <= max_seen);
        /* Within the oldest bucket's share of the exact value. */
        uint64_t ws = (uint64_t)c.stable_window_ms * 1000000;
        uint64_t wp = (uint64_t)c.panic_window_ms * 1000000;
        uint64_t age = now - T0;
        double tol_s = age ? max_seen * (double)width / (double)(age < ws ? age : ws) : 0;
        double tol_p = age ? max_seen * (double)width / (double)(age < wp ? age : wp) : 0;
        double es = exact_avg(&h, now, ws), ep = exact_avg(&h, now, wp);
        if (fabs(d.stable_avg - es) > tol_s + 1e-9 || fabs(d.panic_avg - ep) > tol_p + 1e-9)
            fail_msg("step %d: stable %.9f (exact %.9f), panic %.9f (exact %.9f)", i, d.stable_avg,
                     es, d.panic_avg, ep);
        /* Zero means zero: an average is 0 only when the exact one is. */
        assert_true(es > 0 ? d.stable_avg > 0 : 1);
        /* Panic flags and the no-scale-down rule. */
        assert_true(d.panic_started ? d.panic && !panic : 1);
        assert_true(d.panic_ended ? !d.panic && panic : 1);
        assert_true(d.panic == (panic && !d.panic_ended) || d.panic_started);
        if (d.panic && panic) assert_true(d.desired >= prev);
        if (!d.panic && d.stable_avg == 0 && ready <= 1 && c.min_scale == 0)
            assert_int_equal(d.desired, 0);
        if (d.desired == 0) assert_true(d.stable_avg == 0);
        assert_int_equal(d.changed, d.desired != prev || d.panic_started || d.panic_ended);
        char js[512];
        int len = lm_kpa_decision_json(&d, js, sizeof js);
        assert_true(len > 0 && (size_t)len < sizeof js);
        json_t *j = json_loads(js, 0, NULL);
        assert_non_null(j);
        json_decref(j);
        seen_panic += d.panic_started;
        seen_panic_end += d.panic_ended;
        seen_zero += d.desired == 0;
        seen_max += d.desired == c.max_scale;
        seen_limit += !strcmp(d.reason, "scale_down_limit");
        prev = d.desired;
        panic = d.panic;
    }
    free(h.t);
    free(h.c);
    lm_kpa_free(k);
}

static void test_random_histories(void **state) {
    rng_state = 0x9e3779b97f4a7c15ull;
    for (int run = 0; run < 40; run++)
        one_history(3000);
    assert_true(seen_panic > 10 && seen_panic_end > 10 && seen_zero > 10 && seen_max > 10 &&
                seen_limit > 10);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_null),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_young_averages),
        cmocka_unit_test(test_old_averages),
        cmocka_unit_test(test_instances),
        cmocka_unit_test(test_panic),
        cmocka_unit_test(test_panic_extends),
        cmocka_unit_test(test_scale_down_rate),
        cmocka_unit_test(test_scale_to_zero),
        cmocka_unit_test(test_clamp),
        cmocka_unit_test(test_panic_threshold_edges),
        cmocka_unit_test(test_rounding_bound),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_random_histories),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
