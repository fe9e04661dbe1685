/* test_shape_model.c -- the link model (src/shape/model.c), pure: delays
 * follow the configured jitter distribution (Kolmogorov-Smirnov for normal
 * truncated at 0 and uniform; moments for pareto-normal), the loss rate
 * falls in its binomial interval and each loss costs the RTO (doubling),
 * the rate serializes messages, fifo keeps order, reordering holds back by
 * the gap, schedule steps take effect at their time, the same seed gives
 * the same times. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ks.h"
#include "shape/shape.h"
#include "util/util.h"

#define MS 1000000ull
#define N 4000

static lm_shape_sched sched_of(const char *text) {
    lm_shape_sched s;
    char err[LM_ERRLEN] = "";
    if (lm_shape_sched_parse(text, &s, err) != LM_OK) fail_msg("%s: %s", text, err);
    return s;
}

typedef struct {
    double mu, sigma;
} normal_arg;

static double cdf_trunc_normal(double x, const void *arg) {
    const normal_arg *a = arg;
    if (x < 0) return 0;
    double lo = 0.5 * erfc(a->mu / (a->sigma * sqrt(2.0)));
    double f = 0.5 * erfc(-(x - a->mu) / (a->sigma * sqrt(2.0)));
    return (f - lo) / (1 - lo);
}

static double cdf_uniform(double x, const void *arg) {
    const normal_arg *a = arg; /* mu +- sigma */
    double v = (x - (a->mu - a->sigma)) / (2 * a->sigma);
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

/* Delays (ms) of n messages sent far apart (no queueing, no fifo effect). */
static void delays(const char *cond, uint64_t seed, double *out, size_t n) {
    lm_shape_sched s = sched_of(cond);
    lm_shape_model m;
    lm_shape_model_init(&m, &s, 0, seed, 0, LM_SHAPE_DROP);
    for (size_t i = 0; i < n; i++) {
        uint64_t t = i * 10000 * MS;
        lm_shape_fate f = lm_shape_deliver(&m, 100, t);
        assert_false(f.dropped);
        out[i] = (double)(f.at_ns - t) / 1e6;
    }
    lm_shape_sched_free(&s);
}

static void test_jitter_normal_ks(void **state) {
    static double x[N];
    /* jitter close to the delay, so the truncation at 0 matters. */
    delays("delay=10ms,jitter=8ms:normal", 7, x, N);
    normal_arg a = {10, 8};
    double d = lm_test_ks(x, N, cdf_trunc_normal, &a);
    assert_true(d < lm_test_ks_critical_01(N));
    assert_true(x[0] >= 0); /* sorted: the smallest is not negative */
    /* The test can fail: the same samples against a plain (untruncated)
     * normal of the same parameters are rejected. */
    normal_arg wrong = {10, 9.5};
    assert_true(lm_test_ks(x, N, cdf_trunc_normal, &wrong) > lm_test_ks_critical_01(N));
}

static void test_jitter_uniform_ks(void **state) {
    static double x[N];
    delays("delay=20ms,jitter=5ms:uniform", 3, x, N);
    normal_arg a = {20, 5};
    assert_true(lm_test_ks(x, N, cdf_uniform, &a) < lm_test_ks_critical_01(N));
    assert_true(x[0] >= 15 && x[N - 1] <= 25);
    normal_arg wrong = {20, 8};
    assert_true(lm_test_ks(x, N, cdf_uniform, &wrong) > lm_test_ks_critical_01(N));
}

static void test_jitter_pareto_normal(void **state) {
    lm_rng r = {11};
    double sum = 0, sq = 0, cube = 0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double v = lm_shape_draw(&r, LM_SHAPE_JITTER_PARETO_NORMAL);
        sum += v, sq += v * v, cube += v * v * v;
    }
    double mean = sum / n, sd = sqrt(sq / n - mean * mean);
    assert_true(fabs(mean) < 0.02);
    assert_true(fabs(sd - 1) < 0.05);
    assert_true(cube / n > 0.5); /* the Pareto tail: skewed to long delays */
}

static void test_loss_binomial(void **state) {
    lm_shape_sched s = sched_of("delay=1ms,loss=10%");
    lm_shape_model m;
    lm_shape_model_init(&m, &s, 0, 5, 0, LM_SHAPE_DROP);
    int drops = 0;
    for (int i = 0; i < N; i++)
        drops += lm_shape_deliver(&m, 10, (uint64_t)i * MS).dropped;
    /* 99.9 % normal-approximation interval of Binomial(N, 0.1). */
    double mu = N * 0.1, half = 3.29 * sqrt(N * 0.1 * 0.9);
    assert_true(drops > mu - half && drops < mu + half);
    lm_shape_sched_free(&s);

    /* As TCP: every loss is a retransmit that costs the RTO, doubling. */
    s = sched_of("delay=1ms,loss=10%,rto=50ms");
    lm_shape_model_init(&m, &s, 0, 5, 0, LM_SHAPE_RETRANSMIT);
    unsigned retx = 0, hist[4] = {0};
    for (int i = 0; i < N; i++) {
        uint64_t t = (uint64_t)i * 1000 * MS;
        lm_shape_fate f = lm_shape_deliver(&m, 10, t);
        assert_false(f.dropped);
        retx += f.retransmits;
        /* 1 ms, plus 50 ms per first loss, 100 for the second, ... */
        uint64_t want = 1 * MS + 50 * MS * ((1ull << f.retransmits) - 1);
        assert_int_equal(f.at_ns - t, want);
        if (f.retransmits < 4) hist[f.retransmits]++;
    }
    /* Losses per attempt: retransmits / attempts is the loss. */
    double attempts = N + retx, p = retx / attempts, se = sqrt(0.1 * 0.9 / attempts);
    assert_true(fabs(p - 0.1) < 3.29 * se);
    assert_true(hist[2] > 0);
    lm_shape_sched_free(&s);

    /* loss=100%: 15 retransmits, then dropped. */
    s = sched_of("loss=100%,rto=10ms");
    lm_shape_model_init(&m, &s, 0, 5, 1, LM_SHAPE_RETRANSMIT);
    lm_shape_fate f = lm_shape_deliver(&m, 10, 0);
    assert_true(f.dropped);
    assert_int_equal(f.retransmits, 15);
    lm_shape_sched_free(&s);
}

static void test_rate_and_fifo(void **state) {
    /* 8 Mbit/s: 1000 bytes take 1 ms on the line; back to back they queue. */
    lm_shape_sched s = sched_of("rate=8mbit,delay=10ms");
    lm_shape_model m;
    lm_shape_model_init(&m, &s, 0, 1, 1, LM_SHAPE_RETRANSMIT);
    for (int i = 0; i < 100; i++) {
        lm_shape_fate f = lm_shape_deliver(&m, 1000, 0);
        assert_int_equal(f.at_ns, (uint64_t)(i + 1) * MS + 10 * MS);
    }
    /* An idle line sends at once. */
    assert_int_equal(lm_shape_deliver(&m, 1000, 1000 * MS).at_ns, 1011 * MS);
    lm_shape_sched_free(&s);

    /* With jitter, fifo never lets a message overtake; without, some do. */
    s = sched_of("delay=10ms,jitter=5ms");
    int overtakes[2] = {0, 0};
    for (int fifo = 0; fifo < 2; fifo++) {
        lm_shape_model_init(&m, &s, 0, 9, fifo, LM_SHAPE_RETRANSMIT);
        uint64_t last = 0;
        for (int i = 0; i < 1000; i++) {
            uint64_t at = lm_shape_deliver(&m, 10, (uint64_t)i * MS).at_ns;
            overtakes[fifo] += at < last;
            if (at > last) last = at;
        }
    }
    assert_true(overtakes[0] > 100);
    assert_int_equal(overtakes[1], 0);
    lm_shape_sched_free(&s);
}

static void test_reorder(void **state) {
    lm_shape_sched s = sched_of("delay=10ms,reorder=25%:30ms");
    lm_shape_model m;
    lm_shape_model_init(&m, &s, 0, 2, 0, LM_SHAPE_RETRANSMIT);
    int held = 0;
    for (int i = 0; i < N; i++) {
        uint64_t t = (uint64_t)i * MS;
        lm_shape_fate f = lm_shape_deliver(&m, 10, t);
        assert_int_equal(f.at_ns - t, f.reordered ? 40 * MS : 10 * MS);
        held += f.reordered;
    }
    double mu = N * 0.25, half = 3.29 * sqrt(N * 0.25 * 0.75);
    assert_true(held > mu - half && held < mu + half);
    lm_shape_sched_free(&s);
}

static void test_schedule_steps(void **state) {
    /* Starts at 5 s on the clock: steps are offsets from the start. */
    lm_shape_sched s = sched_of("0s delay=20ms; 2m delay=200ms; 4m delay=20ms");
    lm_shape_model m;
    uint64_t t0 = 5000 * MS;
    lm_shape_model_init(&m, &s, t0, 1, 0, LM_SHAPE_RETRANSMIT);
    assert_int_equal(lm_shape_deliver(&m, 1, t0).at_ns - t0, 20 * MS);
    uint64_t t = t0 + 120000 * MS - 1;
    assert_int_equal(lm_shape_deliver(&m, 1, t).at_ns - t, 20 * MS);
    t = t0 + 120000 * MS;
    assert_int_equal(lm_shape_deliver(&m, 1, t).at_ns - t, 200 * MS);
    t = t0 + 240000 * MS;
    assert_int_equal(lm_shape_deliver(&m, 1, t).at_ns - t, 20 * MS);
    lm_shape_sched_free(&s);

    /* A cut link (loss=100% for 2 s) holds a TCP message until it is back:
     * retransmits at 200, 600, 1400, 3000 ms; the last gets through. */
    s = sched_of("0s none; 1s loss=100%; 3s none");
    lm_shape_model_init(&m, &s, 0, 1, 1, LM_SHAPE_RETRANSMIT);
    lm_shape_fate f = lm_shape_deliver(&m, 1, 1000 * MS);
    assert_false(f.dropped);
    assert_int_equal(f.retransmits, 4);
    assert_int_equal(f.at_ns, 1000 * MS + 3000 * MS);
    lm_shape_sched_free(&s);
}

static void test_seed(void **state) {
    static double a[500], b[500], c[500];
    delays("delay=10ms,jitter=3ms:pareto-normal,loss=0", 42, a, 500);
    delays("delay=10ms,jitter=3ms:pareto-normal,loss=0", 42, b, 500);
    delays("delay=10ms,jitter=3ms:pareto-normal,loss=0", 43, c, 500);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_not_equal(a, c, sizeof a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jitter_normal_ks),     cmocka_unit_test(test_jitter_uniform_ks),
        cmocka_unit_test(test_jitter_pareto_normal), cmocka_unit_test(test_loss_binomial),
        cmocka_unit_test(test_rate_and_fifo),        cmocka_unit_test(test_reorder),
        cmocka_unit_test(test_schedule_steps),       cmocka_unit_test(test_seed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
