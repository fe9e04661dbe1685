/* test_model.c -- the performance model (src/model/): one line's least
 * squares against hand-computed answers (slope, interval, R^2, the
 * lack-of-fit F test and its p against the closed form for two numerator
 * degrees of freedom), the log-log exponent, and the whole model over
 * results databases written through the results writer with a known cost:
 * compute_ns = 20 ns per I/O byte + 50 us, a known platform, client and
 * probe split. It checks that the slope is recovered (within 5% under 5%
 * noise), that a held-out level of an exact line with the same relative
 * residuals at every level is predicted with no error, that a level moved
 * by 25% is reported 20% off (1 / 1.25 - 1), that e2e is the sum of its
 * parts, that a runtime missing a payload is predicted from its ratio to
 * native, the trust grades, the target parser's messages, an empty file,
 * and `lumos compare`'s ratio on a known 2x change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "model/compare.h"
#include "model/model.h"
#include "results/results.h"
#include "stats/stats.h"

static char dir[256];

static int setup(void **state) {
    snprintf(dir, sizeof dir, "/tmp/lumos-test-model-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state) {
    lm_rmtree(dir);
    return 0;
}

static void near(double got, double want, double rel) {
    if (!(fabs(got - want) <= rel * fmax(fabs(want), 1e-300)))
        fail_msg("got %.17g, want %.17g (relative %.3g)", got, want, rel);
}

/* ---- one line ------------------------------------------------------------ */

static void test_line_known(void **state) {
    const double x[] = {1, 2, 3, 4, 5}, y[] = {2, 4, 5, 4, 5};
    lm_model_line l;
    char err[LM_ERRLEN];
    assert_int_equal(lm_model_line_fit(x, y, 5, LM_MODEL_LINEAR, &l, err), LM_OK);
    assert_true(l.ok);
    /* By hand: b = Sxy / Sxx = 6 / 10, a = 4 - 0.6 * 3; SSR = 2.4, SST = 6. */
    near(l.slope, 0.6, 1e-14);
    near(l.intercept, 2.2, 1e-14);
    near(l.r2, 0.6, 1e-14);
    near(l.rse, sqrt(2.4 / 3), 1e-14);
    near(l.slope_se, sqrt(2.4 / 3) / sqrt(10), 1e-14);
    /* t(0.975, 3) = 3.182446305284263 (mpmath). */
    near(l.slope_hi - l.slope, 3.182446305284263 * sqrt(2.4 / 3) / sqrt(10), 1e-12);
    near(l.rmse, sqrt(2.4 / 5), 1e-14);
    assert_int_equal(l.levels, 5);
    assert_true(isnan(l.lof_p)); /* no replicates */
    near(lm_model_line_at(&l, 10), 8.2, 1e-14);
    /* The mean's interval at x: fitted +- t rse sqrt(1/n + (x - 3)^2 / 10). */
    double lo, hi;
    lm_model_line_mean_ci(&l, 10, &lo, &hi);
    near(hi - 8.2, 3.182446305284263 * sqrt(2.4 / 3) * sqrt(0.2 + 4.9), 1e-12);
    near(8.2 - lo, hi - 8.2, 1e-12);

    /* One level, one point, and a value log-log cannot take. */
    const double same[] = {3, 3, 3};
    assert_int_equal(lm_model_line_fit(same, y, 3, LM_MODEL_LINEAR, &l, err), LM_OK);
    assert_false(l.ok);
    assert_string_equal(l.why, "one level of x");
    assert_int_equal(lm_model_line_fit(x, y, 1, LM_MODEL_LINEAR, &l, err), LM_OK);
    assert_string_equal(l.why, "one request");
    const double zero[] = {0, 1, 2};
    assert_int_equal(lm_model_line_fit(x, zero, 3, LM_MODEL_LOGLOG, &l, err), LM_OK);
    assert_false(l.ok);
    assert_string_equal(l.why, "a value <= 0 (no log-log)");
    const double bad[] = {1, NAN};
    assert_int_equal(lm_model_line_fit(bad, y, 2, LM_MODEL_LINEAR, &l, err), LM_ERR);
}

static void test_line_loglog(void **state) {
    double x[12], y[12];
    for (int i = 0; i < 12; i++) {
        x[i] = 1 + i % 6;
        y[i] = 3 * pow(x[i], 1.5);
    }
    lm_model_line l;
    char err[LM_ERRLEN];
    assert_int_equal(lm_model_line_fit(x, y, 12, LM_MODEL_LOGLOG, &l, err), LM_OK);
    assert_true(l.ok);
    near(l.slope, 1.5, 1e-12);
    near(l.intercept, log(3), 1e-12);
    near(lm_model_line_at(&l, 16), 3 * 64, 1e-12);
    assert_true(l.rmse < 1e-9);
    assert_int_equal(l.levels, 6);
}

static void test_line_lack_of_fit(void **state) {
    /* Four levels, three requests each, means 1, 3, 2, 6 (+-1 about them).
     * By hand: the line through the means is -0.5 + 1.4 x; SS_pe = 8
     * (df 8), SS_lof = 3 * 4.2 = 12.6 (df 2): F = 6.3 / 1. With d1 = 2
     * the F tail is closed: P(F > f) = (1 + 2 f / d2)^(-d2 / 2). */
    const double mean[] = {1, 3, 2, 6}, d[] = {-1, 0, 1};
    double x[12], y[12];
    for (int i = 0; i < 12; i++) {
        x[i] = 1 + i / 3;
        y[i] = mean[i / 3] + d[i % 3];
    }
    lm_model_line l;
    char err[LM_ERRLEN];
    assert_int_equal(lm_model_line_fit(x, y, 12, LM_MODEL_LINEAR, &l, err), LM_OK);
    near(l.slope, 1.4, 1e-13);
    near(l.intercept, -0.5, 1e-13);
    near(l.lof_f, 6.3, 1e-12);
    near(l.lof_p, pow(1 + 2 * 6.3 / 8, -4), 1e-10);
    near(l.lof_dev, 1.7 / 3.7, 1e-12);
}

/* ---- crafted databases ------------------------------------------------------ */

static const char *const groups[] = {"xs", "s", "1", "2", "3"};
static const double bytes[] = {1024, 51200, 524288, 1048576, 2097152};

/* The size hook of the test: the groups' bytes. */
static double hook(const char *function, const char *payload, const char **unit) {
    *unit = "bytes";
    for (int i = 0; i < 5; i++)
        if (strncmp(payload, "group:", 6) == 0 && strcmp(payload + 6, groups[i]) == 0)
            return bytes[i];
    return NAN;
}

typedef struct {
    const char *runtime;
    int levels;       /* the first this many groups */
    int mult;         /* compute and io times this */
    int per_level;    /* requests */
    int noise;        /* 0: the residuals 18..22 / 20 in turn; 1: normal, sd 5% */
    int shifted;      /* level index 2's compute times 1.25 */
    double scale_all; /* every duration times this (compare) */
} rt_spec;

static int64_t next_id, next_cell;

static void write_runtime(lm_results *r, const rt_spec *sp, int64_t svc, lm_stats_rng *rng) {
    char err[LM_ERRLEN], name[128];
    lm_results_service s;
    lm_results_service_init(&s);
    s.id = svc;
    snprintf(name, sizeof name, "fuzzy-search@%s", sp->runtime);
    s.name = name;
    s.function = "fuzzy-search";
    s.runtime = sp->runtime;
    assert_int_equal(lm_results_add_service(r, &s, err), LM_OK);
    for (int li = 0; li < sp->levels; li++) {
        lm_results_cell c;
        lm_results_cell_init(&c);
        char cname[128], payload[32];
        snprintf(payload, sizeof payload, "group:%s", groups[li]);
        snprintf(cname, sizeof cname, "fuzzy-search@%s/%s/warm/closed:1/rep1", sp->runtime,
                 payload);
        c.id = ++next_cell;
        c.name = cname;
        c.function = "fuzzy-search";
        c.runtime = sp->runtime;
        c.payload = payload;
        c.start = "warm";
        c.load = "closed";
        c.concurrency = 1;
        c.repetition = 1;
        c.service_id = svc;
        c.status = "done";
        assert_int_equal(lm_results_put_cell(r, &c, err), LM_OK);
        for (int k = 0; k < sp->per_level; k++) {
            double b = bytes[li];
            double compute = (2500 + b) * 20 * sp->mult; /* ns */
            if (sp->noise) {
                double u1 = lm_stats_rng_uniform(rng), u2 = lm_stats_rng_uniform(rng);
                double z = sqrt(-2 * log(1 - u1)) * cos(2 * M_PI * u2);
                compute = round(compute * (1 + 0.05 * z));
            } else {
                compute = compute / 20 * (18 + k % 5);
            }
            if (sp->shifted && li == 2) compute = compute * 5 / 4;
            double sc = sp->scale_all ? sp->scale_all : 1;
            int64_t deser = (int64_t)(1000 * sc), io = (int64_t)((1000 + b / 2) * sp->mult * sc),
                    ser = (int64_t)(2000 * sc), cmp = (int64_t)(compute * sc);
            int64_t t0 = 1000000000 + next_id * 100000000;
            lm_results_request q;
            lm_results_request_init(&q);
            q.id = ++next_id;
            q.service_id = svc;
            q.instance_id = sp->runtime;
            q.status_http = 200;
            q.cold = 0;
            q.intended_send_ns = t0;
            q.send_ns = t0 + 1000;
            q.ingress_ns = t0 + (int64_t)(30000 * sc);
            q.queued_ns = q.acquired_ns = q.ingress_ns;
            q.dispatch_ns = q.ingress_ns + (int64_t)(20000 * sc);
            q.deser_ns = deser;
            q.io_ns = io;
            q.compute_ns = cmp;
            q.ser_ns = ser;
            q.func_total_ns = deser + io + cmp + ser;
            q.result_ns = q.dispatch_ns + q.func_total_ns + (int64_t)(5000 * sc);
            q.response_ns = q.result_ns + (int64_t)(20000 * sc);
            q.receive_ns = q.response_ns + (int64_t)(20000 * sc);
            q.io_read_bytes = (int64_t)b;
            q.io_write_bytes = 0;
            q.io_calls = 1;
            q.cell_id = c.id;
            assert_int_equal(lm_results_add_request(r, &q, err), LM_OK);
        }
    }
}

static void write_db(const char *path, const rt_spec *sp, int n) {
    char err[LM_ERRLEN];
    lm_results *r = lm_results_open(path, NULL, err);
    if (!r) fail_msg("%s", err);
    lm_stats_rng rng = {42};
    next_id = next_cell = 0;
    for (int i = 0; i < n; i++)
        write_runtime(r, &sp[i], i + 1, &rng);
    assert_int_equal(lm_results_flush(r, err), LM_OK);
    lm_results_close(r);
}

static void load_model(lm_model *m, const char *path) {
    memset(m, 0, sizeof *m);
    m->db = path;
    m->form = LM_MODEL_AUTO;
    m->size = hook;
    char err[LM_ERRLEN];
    if (lm_model_load(m, err) != LM_OK || lm_model_fit(m, err) != LM_OK) fail_msg("%s", err);
}

static const lm_model_series *size_series(const lm_model *m, const char *runtime) {
    for (size_t i = 0; i < m->nseries; i++)
        if (m->series[i].axis == LM_MODEL_AXIS_SIZE && strcmp(m->series[i].runtime, runtime) == 0)
            return &m->series[i];
    fail_msg("no size series on %s", runtime);
    return NULL;
}

static void test_recovers_slope(void **state) {
    char path[512];
    snprintf(path, sizeof path, "%s/noise.db", dir);
    rt_spec sp = {"native", 5, 1, 40, 1, 0, 0};
    write_db(path, &sp, 1);
    lm_model m;
    load_model(&m, path);
    assert_int_equal(m.nrequests, 200);
    assert_int_equal(m.nseries, 1); /* one load: no concurrency series */
    const lm_model_series *s = size_series(&m, "native");
    assert_true(s->x_is_io);
    assert_string_equal(s->x_unit, "bytes");
    assert_int_equal(s->nlevels, 5);
    assert_string_equal(s->e2e_source, "client");
    assert_string_equal(s->platform_source, "gateway");
    near(s->io_per_nominal, 1, 1e-15);
    /* 20 ns per byte = 2e-5 ms per byte, within 5%, inside its interval. */
    const lm_model_fitc *f = &s->c[LM_MODEL_COMPUTE];
    near(f->lin.slope, 2e-5, 0.05);
    assert_true(f->lin.slope_lo < 2e-5 && f->lin.slope_hi > 2e-5);
    assert_int_equal(f->used, LM_MODEL_LINEAR);
    near(f->lin.r2, 1, 0.01);
    /* The exact parts: io 0.5 ns per byte, platform 45 us, client 50 us. */
    near(s->c[LM_MODEL_IO].lin.slope, 5e-7, 1e-9);
    near(s->c[LM_MODEL_PLATFORM].lin.intercept, 0.045, 1e-9);
    near(s->c[LM_MODEL_CLIENT].lin.intercept, 0.05, 1e-9);
    assert_false(s->c[LM_MODEL_COLD].have);
    /* Held out, the median is predicted as well as the noise allows: 5%
     * per request makes a median of 40 uncertain by about 1.25 * 5% /
     * sqrt(40) = 1%, on both the measured and the predicted side, so the
     * error inside is about 1.4% (this seed: at most 1.6%), at the edges,
     * where the line is extrapolated, up to a few times that (3.4%). */
    lm_model_validation v;
    char err[LM_ERRLEN];
    assert_int_equal(lm_model_validate(&m, NULL, &v, err), LM_OK);
    assert_int_equal(v.series, 1);
    size_t checked = 0;
    for (size_t i = 0; i < v.n; i++) {
        const lm_model_check *c = &v.rows[i];
        if (c->comp != LM_MODEL_COMPUTE) continue;
        checked++;
        if (!c->exterior) assert_true(fabs(c->median_rel_err) < 0.03);
        assert_true(fabs(c->median_rel_err) < 0.1);
    }
    assert_int_equal(checked, 5);
    lm_model_validation_free(&v);
    lm_model_free(&m);
}

static void test_validate_exact(void **state) {
    char path[512];
    snprintf(path, sizeof path, "%s/exact.db", dir);
    rt_spec sp = {"native", 5, 1, 20, 0, 0, 0};
    write_db(path, &sp, 1);
    lm_model m;
    load_model(&m, path);
    lm_model_validation v;
    char err[LM_ERRLEN];
    assert_int_equal(lm_model_validate(&m, NULL, &v, err), LM_OK);
    /* Every component of every level, edges too: no error. */
    size_t comps = 0;
    for (size_t i = 0; i < v.n; i++) {
        const lm_model_check *c = &v.rows[i];
        if (c->comp == LM_MODEL_COMPUTE || c->comp == LM_MODEL_E2E) comps++;
        if (fabs(c->median_rel_err) > 1e-9 || fabs(c->p90_rel_err) > 1e-9)
            fail_msg("%s at %g: %g %g", lm_model_comp_name(c->comp), c->x, c->median_rel_err,
                     c->p90_rel_err);
    }
    assert_int_equal(comps, 10);
    lm_model_validation_free(&v);
    lm_model_free(&m);
}

static void test_validate_shifted(void **state) {
    char path[512];
    snprintf(path, sizeof path, "%s/shifted.db", dir);
    rt_spec sp = {"native", 5, 1, 20, 0, 1, 0};
    write_db(path, &sp, 1);
    lm_model m;
    load_model(&m, path);
    lm_model_target h;
    char err[LM_ERRLEN];
    assert_int_equal(lm_model_holdout_parse("payload=group:1", &h, err), LM_OK);
    lm_model_validation v;
    assert_int_equal(lm_model_validate(&m, &h, &v, err), LM_OK);
    int seen = 0;
    for (size_t i = 0; i < v.n; i++) {
        const lm_model_check *c = &v.rows[i];
        assert_true(c->x == 524288 && !c->exterior);
        if (c->comp != LM_MODEL_COMPUTE) continue;
        seen = 1;
        /* The others lie on the line: the moved level is 1 / 1.25 - 1 off. */
        near(c->median_rel_err, -0.2, 1e-9);
        near(c->p90_rel_err, -0.2, 1e-9);
        near(c->meas_median_ms, (2500 + 524288) * 20 * 1.25 / 1e6, 1e-12);
    }
    assert_true(seen);
    lm_model_validation_free(&v);
    /* A level no series has. */
    assert_int_equal(lm_model_holdout_parse("concurrency=8", &h, err), LM_OK);
    assert_int_equal(lm_model_validate(&m, &h, &v, err), LM_ERR);
    assert_string_equal(err, "no series with three or more levels has the level to hold out (1 "
                             "series have three or more)");
    lm_model_free(&m);
}

static const lm_model_prediction *by_method(const lm_model_prediction *p, size_t n,
                                            const char *method) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(p[i].method, method) == 0) return &p[i];
    fail_msg("no %s prediction", method);
    return NULL;
}

static void test_predict(void **state) {
    char path[512];
    snprintf(path, sizeof path, "%s/two.db", dir);
    rt_spec sp[] = {{"native", 5, 1, 20, 0, 0, 0}, {"wasm-interp", 4, 3, 20, 0, 0, 0}};
    write_db(path, sp, 2);
    lm_model m;
    load_model(&m, path);
    char err[LM_ERRLEN];
    lm_model_target t;
    lm_model_prediction *p;
    size_t n;

    /* Twice the largest size: the line there, medium trust. */
    assert_int_equal(lm_model_target_parse("fuzzy-search@native,size=4Mi", &t, err), LM_OK);
    assert_int_equal(lm_model_predict(&m, &t, &p, &n, err), LM_OK);
    assert_int_equal(n, 1);
    assert_string_equal(p[0].method, "size fit");
    assert_string_equal(p[0].place, "extrapolation");
    near(p[0].distance, 2, 1e-15);
    assert_string_equal(p[0].trust, "medium");
    double x = 4194304, compute = (2500 + x) * 20 / 1e6;
    near(p[0].comp[LM_MODEL_COMPUTE].median_ms, compute, 1e-9);
    near(p[0].comp[LM_MODEL_COMPUTE].p90_ms, compute * (22.0 / 20),
         1e-9); /* type 7 of 4 x 18..22 */
    /* e2e is the sum of its parts: platform, probes, client. */
    double e2e = 0.045 + 0.001 + (1000 + x / 2) / 1e6 + compute + 0.002 + 0.05;
    near(p[0].comp[LM_MODEL_E2E].mean_ms, e2e, 1e-9);
    near(p[0].comp[LM_MODEL_E2E].median_ms, e2e, 1e-9);
    assert_false(p[0].measured);
    free(p);

    /* Inside: interpolation, high trust; at a level: measured. */
    assert_int_equal(lm_model_target_parse("fuzzy-search@native,size=700000", &t, err), LM_OK);
    assert_int_equal(lm_model_predict(&m, &t, &p, &n, err), LM_OK);
    assert_string_equal(p[0].place, "interpolation");
    assert_string_equal(p[0].trust, "high");
    free(p);
    assert_int_equal(lm_model_target_parse("fuzzy-search@native,payload=group:2", &t, err), LM_OK);
    assert_int_equal(lm_model_predict(&m, &t, &p, &n, err), LM_OK);
    assert_true(p[0].measured);
    near(p[0].comp[LM_MODEL_COMPUTE].median_ms, p[0].meas[LM_MODEL_COMPUTE].median_ms, 1e-9);
    free(p);

    /* A runtime at a payload it did not run: its own size fit, and
     * native's requests there times their ratio on the four it ran. */
    assert_int_equal(lm_model_target_parse("fuzzy-search@wasm-interp,payload=group:3", &t, err),
                     LM_OK);
    assert_int_equal(lm_model_predict(&m, &t, &p, &n, err), LM_OK);
    assert_int_equal(n, 2);
    const lm_model_prediction *fit = by_method(p, n, "size fit");
    assert_string_equal(fit->place, "extrapolation");
    near(fit->comp[LM_MODEL_COMPUTE].median_ms, 3 * (2500 + 2097152) * 20 / 1e6, 1e-9);
    const lm_model_prediction *r = by_method(p, n, "runtime ratio");
    assert_string_equal(r->baseline, "native");
    assert_int_equal(r->shared, 4);
    assert_false(r->measured);
    near(r->comp[LM_MODEL_COMPUTE].median_ms, 3 * (2500 + 2097152) * 20 / 1e6, 1e-9);
    assert_true(r->ratio_max > r->ratio_min); /* the fixed overheads do not scale */
    free(p);

    /* What cannot be predicted, with the messages. */
    assert_int_equal(lm_model_target_parse("noop@native,size=1k", &t, err), LM_OK);
    assert_int_equal(lm_model_predict(&m, &t, &p, &n, err), LM_ERR);
    char want[1024];
    snprintf(want, sizeof want, "%s has no answered request of noop", m.db);
    assert_string_equal(err, want);
    assert_int_equal(lm_model_target_parse("fuzzy-search@wasm-aot,payload=group:1", &t, err),
                     LM_OK);
    assert_int_equal(lm_model_predict(&m, &t, &p, &n, err), LM_ERR);
    assert_non_null(strstr(err, "no answered request of fuzzy-search@wasm-aot"));
    assert_int_equal(lm_model_target_parse("fuzzy-search@native,concurrency=4", &t, err), LM_OK);
    assert_int_equal(lm_model_predict(&m, &t, &p, &n, err), LM_ERR);
    assert_non_null(strstr(err, "nothing to predict for fuzzy-search@native here"));
    lm_model_free(&m);
}

static void test_target_parse(void **state) {
    lm_model_target t;
    char err[LM_ERRLEN];
    assert_int_equal(
        lm_model_target_parse("fibonacci@wasm-aot,start=cold,size=2Mi,concurrency=4", &t, err),
        LM_OK);
    assert_string_equal(t.function, "fibonacci");
    assert_string_equal(t.runtime, "wasm-aot");
    assert_string_equal(t.start, "cold");
    assert_true(t.size == 2097152 && t.concurrency == 4 && isnan(t.rate_rps));
    assert_int_equal(lm_model_target_parse("f@r,size=1.5k,rate=2.5,load=open", &t, err), LM_OK);
    assert_true(t.size == 1500 && t.rate_rps == 2.5);
    static const struct {
        const char *in, *msg;
    } bad[] = {
        {"fibonacci", "'fibonacci': say the function and runtime first: F@R[,key=value]..."},
        {"@r", "'@r': the function or runtime is empty or too long"},
        {"f@r,size=0",
         "size=0: want a number above 0, at most 1e18 (suffixes k, M, G, Ki, Mi, Gi)"},
        {"f@r,size=1x",
         "size=1x: want a number above 0, at most 1e18 (suffixes k, M, G, Ki, Mi, Gi)"},
        {"f@r,zzz=1", "'zzz': unknown key (start, size, payload, load, concurrency, rate)"},
        {"f@r,start=hot", "start=hot: start is cold or warm"},
        {"f@r,concurrency=1.5", "concurrency=1.5: want a whole number of clients, 1 or more"},
        {"f@r,size=1,payload=group:1", "size and payload both say the size: give one"},
        {"f@r,concurrency=2,rate=3", "concurrency (closed loop) and rate (open loop): give one"},
        {"f@r,size", "'size': want key=value (start, size, payload, load, concurrency, rate)"},
        {"f@r,size=1e308G", "size=1e308G: want a number above 0, at most 1e18 (suffixes k, M, G, "
                            "Ki, Mi, Gi)"},
        {"f@r,", "'': want key=value (start, size, payload, load, concurrency, rate)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(lm_model_target_parse(bad[i].in, &t, err), LM_ERR);
        if (strcmp(err, bad[i].msg) != 0) fail_msg("%s: got '%s'", bad[i].in, err);
    }
    assert_int_equal(lm_model_holdout_parse("concurrency=2", &t, err), LM_OK);
    assert_int_equal(t.concurrency, 2);
    assert_int_equal(lm_model_holdout_parse("payload=group:1,size=2", &t, err), LM_ERR);
    assert_string_equal(err, "size and payload both say the size: give one");
    assert_int_equal(lm_model_holdout_parse("start=cold", &t, err), LM_ERR);
    assert_string_equal(err, "'start=cold': hold out one level: payload=P, size=X, "
                             "concurrency=N or rate=R");
}

static void test_empty(void **state) {
    char path[512], want[1024], err[LM_ERRLEN];
    snprintf(path, sizeof path, "%s/empty.db", dir);
    lm_results_close(lm_results_open(path, NULL, err));
    lm_model m;
    memset(&m, 0, sizeof m);
    m.db = path;
    assert_int_equal(lm_model_load(&m, err), LM_ERR);
    snprintf(want, sizeof want, "%s holds no answered request: nothing to model", path);
    assert_string_equal(err, want);
    lm_model_free(&m);
    lm_model_free(NULL);
    lm_model_validation_free(NULL);
    lm_model_compare_free(NULL);
}

static void test_compare(void **state) {
    char a[512], b[512], err[LM_ERRLEN];
    snprintf(a, sizeof a, "%s/a.db", dir);
    snprintf(b, sizeof b, "%s/b.db", dir);
    rt_spec sa = {"native", 3, 1, 30, 1, 0, 1}, sb = {"native", 3, 1, 30, 1, 0, 2};
    write_db(a, &sa, 1);
    write_db(b, &sb, 1);
    lm_model_compare c;
    memset(&c, 0, sizeof c);
    c.db1 = a;
    c.db2 = b;
    c.metric = LM_REPORT_M_E2E;
    c.boot = (lm_stats_boot_opts){500, 1, 0.95, LM_STATS_MEDIAN};
    assert_int_equal(lm_model_compare_run(&c, err), LM_OK);
    assert_int_equal(c.nrows, 3);
    assert_int_equal(c.slower, 3);
    for (size_t i = 0; i < c.nrows; i++) {
        const lm_model_cmp_row *r = &c.rows[i];
        assert_true(r->ok && r->change == 1);
        near(r->r.ratio, 2, 0.01); /* durations doubled; the noise is the same draw */
        assert_true(r->r.ci.lo < 2 && r->r.ci.hi > 2);
        assert_string_equal(r->matched_by, "name");
    }
    lm_model_compare_free(&c);
    /* The same file twice: ratio 1, nothing marked. */
    memset(&c, 0, sizeof c);
    c.db1 = c.db2 = a;
    c.boot = (lm_stats_boot_opts){500, 1, 0.95, LM_STATS_MEDIAN};
    assert_int_equal(lm_model_compare_run(&c, err), LM_OK);
    assert_int_equal(c.slower + c.faster, 0);
    for (size_t i = 0; i < c.nrows; i++)
        assert_true(c.rows[i].r.ratio == 1 && c.rows[i].r.ci.lo <= 1 && c.rows[i].r.ci.hi >= 1);
    lm_model_compare_free(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_known),
        cmocka_unit_test(test_line_loglog),
        cmocka_unit_test(test_line_lack_of_fit),
        cmocka_unit_test_setup_teardown(test_recovers_slope, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_shifted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_predict, setup, teardown),
        cmocka_unit_test(test_target_parse),
        cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compare, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
