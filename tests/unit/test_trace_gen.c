/* test_trace_gen.c -- `lumos trace gen` (src/trace/gen.h) produces what it
 * claims: Kolmogorov-Smirnov tests of Poisson gaps, long-run rates within
 * 2 %, bursts where asked for and none in off periods, ramps and steps
 * following their rate, mixes in their weights, same seed same bytes, and
 * bad parameters with their exact messages. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ks.h"
#include "platform/service_config.h"
#include "trace/gen.h"
#include "trace/trace.h"

static lm_trace *gen_ok(const lm_trace_gen_opts *o) {
    char err[LM_ERRLEN] = "";
    lm_trace *t = NULL;
    int rc = lm_trace_gen(o, &t, err);
    if (rc != LM_OK) fprintf(stderr, "unexpected error: %s\n", err);
    assert_int_equal(rc, LM_OK);
    return t;
}

static void gen_err(const lm_trace_gen_opts *o, const char *want) {
    char err[LM_ERRLEN] = "";
    lm_trace *t = (lm_trace *)1;
    int rc = lm_trace_gen(o, &t, err);
    if (rc == LM_OK || strcmp(err, want) != 0)
        fprintf(stderr, "want: %s\ngot:  %s\n", want, rc == LM_OK ? "(accepted)" : err);
    assert_int_equal(rc, LM_ERR);
    assert_null(t);
    assert_string_equal(err, want);
}

static char *bytes_of(const lm_trace *t) {
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_int_equal(lm_trace_write(m, t), LM_OK);
    fclose(m);
    return buf;
}

static lm_trace_gen_opts opts(const char *pattern) {
    lm_trace_gen_opts o;
    lm_trace_gen_defaults(&o);
    o.pattern = pattern;
    return o;
}

/* Gaps between consecutive offsets in seconds, into a malloc'd array. */
static double *gaps_s(const lm_trace *t, size_t *n) {
    *n = t->nrows - 1;
    double *g = malloc(*n * sizeof(*g));
    for (size_t i = 1; i < t->nrows; i++)
        g[i - 1] = (double)(t->rows[i].offset_us - t->rows[i - 1].offset_us) / 1e6;
    return g;
}

/* Rows per window of w seconds over [0, S): a malloc'd array of nw. */
static size_t *windows(const lm_trace *t, double w, double S, size_t *nw) {
    *nw = (size_t)ceil(S / w - 1e-9);
    size_t *c = calloc(*nw, sizeof(*c));
    for (size_t i = 0; i < t->nrows; i++) {
        size_t k = (size_t)((double)t->rows[i].offset_us / 1e6 / w);
        if (k < *nw) c[k]++;
    }
    return c;
}

/* Index of dispersion (variance over mean) of counts. */
static double dispersion(const size_t *c, size_t n) {
    double m = 0, v = 0;
    for (size_t i = 0; i < n; i++)
        m += (double)c[i];
    m /= (double)n;
    for (size_t i = 0; i < n; i++)
        v += ((double)c[i] - m) * ((double)c[i] - m);
    return v / (double)(n - 1) / m;
}

static void assert_near_rel(double got, double want, double rel) {
    if (fabs(got - want) > rel * want)
        fprintf(stderr, "got %.6g, want %.6g within %.2g %%\n", got, want, rel * 100);
    assert_true(fabs(got - want) <= rel * want);
}

static void test_poisson_ks(void **state) {
    (void)state;
    lm_trace_gen_opts o = opts("poisson");
    o.rate_rps = 200;
    o.duration_s = 100;
    lm_trace *t = gen_ok(&o);
    size_t n;
    double *g = gaps_s(t, &n), rate = 200;
    double d = lm_test_ks(g, n, lm_test_cdf_exp, &rate), crit = lm_test_ks_critical_01(n);
    fprintf(stderr, "poisson: n %zu, D %.5f, critical %.5f\n", n, d, crit);
    assert_true(d < crit);
    /* The same gaps against the wrong rate are rejected: the test has power. */
    double wrong = 180;
    assert_true(lm_test_ks(g, n, lm_test_cdf_exp, &wrong) > crit);
    free(g);
    /* Constant gaps are not exponential. */
    o.pattern = "constant";
    lm_trace *c = gen_ok(&o);
    g = gaps_s(c, &n);
    assert_true(lm_test_ks(g, n, lm_test_cdf_exp, &rate) > lm_test_ks_critical_01(n));
    free(g);
    lm_trace_free(c);
    lm_trace_free(t);
}

static void test_long_run_rates(void **state) {
    (void)state;
    lm_trace_gen_opts o = opts("constant");
    o.rate_rps = 100;
    o.duration_s = 1000;
    lm_trace *t = gen_ok(&o);
    assert_int_equal(t->nrows, 100000); /* 0, 0.01, ..., 999.99 s */
    assert_int_equal(t->rows[1].offset_us, 10000);
    assert_int_equal(t->rows[99999].offset_us, 999990000);
    lm_trace_free(t);
    o.pattern = "poisson";
    t = gen_ok(&o);
    assert_near_rel((double)t->nrows, 100000, 0.02);
    lm_trace_free(t);
    o = opts("onoff");
    o.rate_rps = 100, o.on_s = 2, o.off_s = 3, o.duration_s = 1000;
    t = gen_ok(&o);
    assert_near_rel((double)t->nrows, 100 * 1000 * 2.0 / 5, 0.02);
    lm_trace_free(t);
    o = opts("mmpp");
    o.mmpp_rate_rps[0] = 100, o.mmpp_rate_rps[1] = 0, o.sojourn_s[0] = 0.1, o.sojourn_s[1] = 0.1;
    o.duration_s = 3600;
    t = gen_ok(&o);
    assert_near_rel((double)t->nrows, 50 * 3600, 0.02);
    lm_trace_free(t);
    o = opts("ramp");
    o.from_rps = 1, o.to_rps = 200, o.duration_s = 600;
    t = gen_ok(&o);
    assert_near_rel((double)t->nrows, 100.5 * 600, 0.02);
    lm_trace_free(t);
}

static void test_bursts(void **state) {
    (void)state;
    size_t nw, *c;
    /* Poisson: counts per second disperse like Poisson (index ~1). */
    lm_trace_gen_opts o = opts("poisson");
    o.rate_rps = 50, o.duration_s = 2000;
    lm_trace *t = gen_ok(&o);
    c = windows(t, 1, o.duration_s, &nw);
    double idc = dispersion(c, nw);
    fprintf(stderr, "poisson idc %.3f\n", idc);
    assert_true(idc > 0.85 && idc < 1.15);
    free(c);
    lm_trace_free(t);
    /* onoff: nothing in off periods, bursts in on periods. */
    o = opts("onoff");
    o.rate_rps = 100, o.on_s = 1, o.off_s = 4, o.duration_s = 500;
    t = gen_ok(&o);
    for (size_t i = 0; i < t->nrows; i++)
        assert_true(fmod((double)t->rows[i].offset_us / 1e6, 5.0) < 1.0 + 1e-6);
    c = windows(t, 1, o.duration_s, &nw);
    for (size_t k = 0; k < nw; k++)
        if (k % 5 == 0)
            assert_true(c[k] > 50);
        else
            assert_int_equal(c[k], 0);
    idc = dispersion(c, nw);
    fprintf(stderr, "onoff idc %.3f\n", idc);
    assert_true(idc > 10);
    free(c);
    lm_trace_free(t);
    /* Constant arrivals in on periods: exactly rate * on_s each. */
    o.arrivals = LM_ARRIVALS_CONSTANT;
    t = gen_ok(&o);
    c = windows(t, 1, o.duration_s, &nw);
    for (size_t k = 0; k < nw; k++)
        assert_int_equal(c[k], k % 5 == 0 ? 100 : 0);
    free(c);
    lm_trace_free(t);
    /* mmpp: clearly over-dispersed. */
    o = opts("mmpp");
    o.duration_s = 4000;
    t = gen_ok(&o);
    c = windows(t, 1, o.duration_s, &nw);
    idc = dispersion(c, nw);
    fprintf(stderr, "mmpp idc %.3f\n", idc);
    assert_true(idc > 5);
    free(c);
    lm_trace_free(t);
}

/* Expected rows of a ramp in [a, b): the integral of its rate. */
static double ramp_between(double r1, double r2, double S, double a, double b) {
    double d = (r2 - r1) / S;
    return r1 * (b - a) + d * (b * b - a * a) / 2;
}

static void test_ramp_and_step(void **state) {
    (void)state;
    size_t nw, *c;
    lm_trace_gen_opts o = opts("ramp");
    o.from_rps = 1, o.to_rps = 200, o.duration_s = 300;
    for (int arr = 0; arr < 2; arr++) {
        o.arrivals = arr ? LM_ARRIVALS_CONSTANT : LM_ARRIVALS_POISSON;
        lm_trace *t = gen_ok(&o);
        c = windows(t, 10, o.duration_s, &nw);
        for (size_t k = 0; k < nw; k++) {
            double want = ramp_between(1, 200, 300, 10.0 * k, 10.0 * (k + 1));
            double tol = arr ? 1.5 : 4 * sqrt(want) + 1;
            if (fabs((double)c[k] - want) > tol)
                fprintf(stderr, "ramp window %zu: %zu rows, want %.1f\n", k, c[k], want);
            assert_true(fabs((double)c[k] - want) <= tol);
        }
        free(c);
        lm_trace_free(t);
    }
    /* Ramps down too. */
    o.from_rps = 100, o.to_rps = 0, o.arrivals = LM_ARRIVALS_CONSTANT;
    lm_trace *t = gen_ok(&o);
    assert_true(fabs((double)t->nrows - 50.0 * 300) <= 1);
    lm_trace_free(t);
    /* The paper's sweep: 1 to 200 rps, one step each 30 s; a zero step. */
    o = opts("step");
    double rates[] = {1, 0, 50, 100, 200};
    memcpy(o.steps_rps, rates, sizeof(rates));
    o.nsteps = 5;
    o.step_s = 30;
    for (int arr = 0; arr < 2; arr++) {
        o.arrivals = arr ? LM_ARRIVALS_CONSTANT : LM_ARRIVALS_POISSON;
        t = gen_ok(&o);
        c = windows(t, 30, 150, &nw);
        for (size_t k = 0; k < nw; k++) {
            double want = rates[k] * 30, tol = arr ? 0 : 4 * sqrt(want) + 1;
            if (fabs((double)c[k] - want) > tol)
                fprintf(stderr, "step %zu: %zu rows, want %.0f\n", k, c[k], want);
            assert_true(fabs((double)c[k] - want) <= tol);
        }
        free(c);
        lm_trace_free(t);
    }
    /* The default steps span 1 to 200 rps. */
    o = opts("step");
    assert_true(o.steps_rps[0] == 1 && o.steps_rps[o.nsteps - 1] == 200);
}

static void test_delayed_and_closed(void **state) {
    (void)state;
    /* The default idle timeout is the platform's. */
    lm_service_spec spec;
    lm_service_spec_defaults(&spec);
    lm_trace_gen_opts o = opts("delayed");
    assert_true(o.idle_timeout_s * 1000 == spec.cfg.idle_timeout_ms);
    o.count = 4, o.idle_timeout_s = 30, o.margin_s = 2.5, o.start = LM_START_COLD;
    lm_trace *t = gen_ok(&o);
    assert_int_equal(t->nrows, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(t->rows[i].offset_us, (int64_t)i * 32500000);
        assert_int_equal(t->rows[i].start, LM_START_COLD);
    }
    assert_string_equal(lm_trace_get_key(t, "spacing_s"), "32.5");
    lm_trace_free(t);
    o = opts("closed");
    o.clients = 7, o.requests = 20;
    t = gen_ok(&o);
    assert_int_equal(t->mode, LM_TRACE_CLOSED);
    assert_int_equal(t->concurrency, 7);
    assert_int_equal(t->nrows, 20);
    assert_int_equal(t->rows[19].offset_us, 0);
    char *b = bytes_of(t);
    assert_non_null(strstr(b, "# lumos-trace 1 mode=closed concurrency=7 pattern=closed "
                              "requests=20 seed=1 function=fibonacci\n"));
    free(b);
    lm_trace_free(t);
}

static void test_mix(void **state) {
    (void)state;
    lm_trace_gen_opts o = opts("constant");
    o.rate_rps = 1000, o.duration_s = 40;
    o.mix = "fibonacci@native:3,noop@wasm-aot:1,prime-numbers";
    o.runtime = "wasm-jit";
    lm_trace *t = gen_ok(&o);
    size_t fib = 0, noop = 0, prime = 0;
    for (size_t i = 0; i < t->nrows; i++) {
        const lm_trace_row *r = &t->rows[i];
        if (strcmp(r->function, "fibonacci") == 0) {
            assert_string_equal(r->runtime, "native");
            fib++;
        } else if (strcmp(r->function, "noop") == 0) {
            assert_string_equal(r->runtime, "wasm-aot");
            noop++;
        } else {
            assert_string_equal(r->runtime, "wasm-jit"); /* the default runtime */
            prime++;
        }
    }
    /* Weights 3:1:1 of 40000 rows, each within 5 standard deviations. */
    assert_int_equal(fib + noop + prime, 40000);
    assert_true(fabs((double)fib - 24000) < 5 * sqrt(40000 * 0.6 * 0.4));
    assert_true(fabs((double)noop - 8000) < 5 * sqrt(40000 * 0.2 * 0.8));
    /* The mix does not move the arrivals: they are another stream. */
    lm_trace_gen_opts p = o;
    p.mix = NULL;
    lm_trace *u = gen_ok(&p);
    assert_int_equal(u->nrows, t->nrows);
    for (size_t i = 0; i < t->nrows; i += 997)
        assert_int_equal(u->rows[i].offset_us, t->rows[i].offset_us);
    lm_trace_free(u);
    lm_trace_free(t);
}

/* Every pattern: the same seed gives the same bytes, another seed others
 * (with a mix, even the deterministic patterns depend on the seed). */
static void test_same_seed_same_bytes(void **state) {
    (void)state;
    const char *const *p = lm_trace_patterns();
    for (; *p; p++) {
        lm_trace_gen_opts o = opts(*p);
        o.duration_s = 20;
        o.mix = "fibonacci:1,noop@native:2";
        lm_trace *a = gen_ok(&o), *b = gen_ok(&o);
        o.seed = 2;
        lm_trace *c = gen_ok(&o);
        char *x = bytes_of(a), *y = bytes_of(b), *z = bytes_of(c);
        assert_string_equal(x, y);
        if (strcmp(x, z) == 0) fprintf(stderr, "pattern %s: seed does not matter\n", *p);
        assert_string_not_equal(x, z);
        /* What gen makes, the reader accepts unchanged. */
        FILE *f = fmemopen(x, strlen(x), "r");
        lm_trace *back;
        char err[LM_ERRLEN];
        int rc = lm_trace_read_stream(f, "gen.csv", NULL, &back, err);
        fclose(f);
        if (rc != LM_OK) fprintf(stderr, "%s: %s\n", *p, err);
        assert_int_equal(rc, LM_OK);
        char *w = bytes_of(back);
        assert_string_equal(w, x);
        free(w);
        lm_trace_free(back);
        free(x);
        free(y);
        free(z);
        lm_trace_free(a);
        lm_trace_free(b);
        lm_trace_free(c);
    }
}

static void test_header(void **state) {
    (void)state;
    lm_trace_gen_opts o = opts("poisson");
    o.rate_rps = 50;
    lm_trace *t = gen_ok(&o);
    char *b = bytes_of(t);
    const char *want = "# lumos-trace 1 mode=open pattern=poisson rate_rps=50 duration_s=60 "
                       "seed=1 function=fibonacci\noffset_us,function,runtime,payload,start\n";
    assert_memory_equal(b, want, strlen(want));
    free(b);
    lm_trace_free(t);
    o = opts("mmpp");
    t = gen_ok(&o);
    b = bytes_of(t);
    want = "# lumos-trace 1 mode=open pattern=mmpp rates_rps=50,5 sojourn_s=2,8 duration_s=60 "
           "seed=1 function=fibonacci\n";
    assert_memory_equal(b, want, strlen(want));
    free(b);
    lm_trace_free(t);
}

static void test_bad_parameters(void **state) {
    (void)state;
    lm_trace_gen_opts o = opts("poisson");
    o.rate_rps = -5;
    gen_err(&o, "--rate: -5 is negative (a rate is requests per second, >= 0)");
    o.rate_rps = 0;
    gen_err(&o, "pattern poisson makes no requests with these parameters (a rate of 0?)");
    o = opts("poisson");
    o.duration_s = 0;
    gen_err(&o, "--duration: 0 must be a positive number");
    o = opts("poisson");
    o.rate_rps = 1e6, o.duration_s = 1e6;
    gen_err(&o, "the pattern makes about 1000000000000 requests, more than a trace holds "
                "(10000000)");
    o = opts("wave");
    gen_err(&o, "--pattern: unknown pattern 'wave' (constant, poisson, onoff, mmpp, ramp, step, "
                "delayed, closed)");
    o = opts("poisson");
    o.function = "fibonaci";
    gen_err(&o, "--function: unknown function 'fibonaci' (see `lumos functions`)");
    o = opts("poisson");
    o.runtime = "wasm-fast";
    char err[LM_ERRLEN];
    lm_trace *t;
    assert_int_equal(lm_trace_gen(&o, &t, err), LM_ERR);
    assert_memory_equal(err, "--runtime: unknown runtime 'wasm-fast' (known: native, ", 48);
    o = opts("poisson");
    o.payload = "group:4";
    gen_err(&o, "--payload: unknown payload group '4' (groups: xs, s, 1, 2, 3; see docs/data.md)");
    o = opts("poisson");
    o.mix = "fibonacci@native:0";
    gen_err(&o, "--mix: entry 'fibonacci@native:0': the weight must be a whole number from 1 to "
                "1000000");
    o.mix = "fibonacci@:2";
    gen_err(&o, "--mix: entry 'fibonacci@:2': no runtime after '@'");
    o.mix = "noop,fib@native";
    gen_err(&o, "--mix: entry 'fib@native': unknown function 'fib' (see `lumos functions`)");
    o.mix = ",";
    gen_err(&o, "--mix: no entries (give fn[@runtime][:weight],...)");
    o = opts("onoff");
    o.on_s = 0;
    gen_err(&o, "--on-s: 0 must be a positive number");
    o = opts("mmpp");
    o.sojourn_s[1] = -1;
    gen_err(&o, "--sojourn-s: -1 must be a positive number");
    o = opts("ramp");
    o.to_rps = -1;
    gen_err(&o, "--to: -1 is negative (a rate is requests per second, >= 0)");
    o = opts("step");
    o.steps_rps[3] = -2;
    gen_err(&o, "--rates: -2 is negative (a rate is requests per second, >= 0)");
    o = opts("delayed");
    o.idle_timeout_s = 0, o.margin_s = 0;
    gen_err(&o, "--idle-timeout-s plus --margin-s must be above 0");
    o = opts("closed");
    o.clients = 0;
    gen_err(&o, "--clients: 0 must be from 1 to 100000");
    /* Which options a pattern uses. */
    assert_true(lm_trace_gen_uses("onoff", "on-s"));
    assert_false(lm_trace_gen_uses("poisson", "on-s"));
    assert_true(lm_trace_gen_uses("step", "rates"));
    assert_false(lm_trace_gen_uses("step", "duration"));
    assert_true(lm_trace_gen_uses("closed", "seed"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_poisson_ks),
        cmocka_unit_test(test_long_run_rates),
        cmocka_unit_test(test_bursts),
        cmocka_unit_test(test_ramp_and_step),
        cmocka_unit_test(test_delayed_and_closed),
        cmocka_unit_test(test_mix),
        cmocka_unit_test(test_same_seed_same_bytes),
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_bad_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
