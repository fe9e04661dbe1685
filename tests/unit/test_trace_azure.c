/* test_trace_azure.c -- the Azure Functions replays (src/trace/azure.h):
 * the 2019 replay reproduces every per-minute count exactly (in a window,
 * for the top-k, per scaled minute under a speed-up), thins by its rule,
 * places arrivals inside minutes as configured (Kolmogorov-Smirnov), maps
 * functions by the documented rule; the 2021 conversion orders by start;
 * same seed same bytes; bad files with their exact messages. */
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
#include "trace/azure.h"
#include "trace/trace.h"
#include "util/util.h"

typedef struct {
    char *inv, *dur;
    size_t ninv, ndur;
} files;

static files synth2019(size_t functions, int minutes, uint64_t seed) {
    files f = {0};
    FILE *a = open_memstream(&f.inv, &f.ninv), *b = open_memstream(&f.dur, &f.ndur);
    lm_azure_synth_opts o;
    lm_azure_synth_defaults(&o);
    o.functions = functions, o.minutes = minutes, o.seed = seed;
    char err[LM_ERRLEN];
    assert_int_equal(lm_azure_synth2019(a, b, &o, err), LM_OK);
    fclose(a);
    fclose(b);
    return f;
}

static int run2019(const char *inv, const char *dur, const lm_azure_opts *o, lm_azure_result *r,
                   char *err) {
    FILE *a = fmemopen((void *)inv, strlen(inv), "r");
    FILE *b = dur ? fmemopen((void *)dur, strlen(dur), "r") : NULL;
    int rc = lm_azure2019(a, "inv.csv", b, "dur.csv", o, r, err);
    fclose(a);
    if (b) fclose(b);
    return rc;
}

static void ok2019(const char *inv, const char *dur, const lm_azure_opts *o, lm_azure_result *r) {
    char err[LM_ERRLEN] = "";
    int rc = run2019(inv, dur, o, r, err);
    if (rc != LM_OK) fprintf(stderr, "unexpected error: %s\n", err);
    assert_int_equal(rc, LM_OK);
}

static void err2019(const char *inv, const char *dur, const lm_azure_opts *o, const char *want) {
    char err[LM_ERRLEN] = "";
    lm_azure_result r;
    int rc = run2019(inv, dur, o, &r, err);
    if (rc == LM_OK || strcmp(err, want) != 0)
        fprintf(stderr, "want: %s\ngot:  %s\n", want, rc == LM_OK ? "(accepted)" : err);
    assert_int_equal(rc, LM_ERR);
    assert_string_equal(err, want);
    assert_null(r.trace);
    assert_null(r.fns);
}

static int run2021(const char *text, const lm_azure_opts *o, lm_azure_result *r, char *err) {
    FILE *a = fmemopen((void *)text, strlen(text), "r");
    int rc = lm_azure2021(a, "t21.csv", o, r, err);
    fclose(a);
    return rc;
}

static void err2021(const char *text, const char *want) {
    char err[LM_ERRLEN] = "";
    lm_azure_result r;
    lm_azure_opts o;
    lm_azure_defaults(&o);
    int rc = run2021(text, &o, &r, err);
    if (rc == LM_OK || strcmp(err, want) != 0)
        fprintf(stderr, "want: %s\ngot:  %s\n", want, rc == LM_OK ? "(accepted)" : err);
    assert_int_equal(rc, LM_ERR);
    assert_string_equal(err, want);
}

/* The counts of the invocations file, read independently of the reader:
 * counts[f * minutes + m], and each function's "owner/app/function". */
static uint32_t *counts_of(const char *inv, size_t nf, int minutes, char (*names)[128]) {
    uint32_t *c = calloc(nf * (size_t)minutes, sizeof(*c));
    const char *p = strchr(inv, '\n') + 1;
    for (size_t f = 0; f < nf; f++) {
        char o[40], a[40], fn[40];
        int k;
        assert_int_equal(sscanf(p, "%39[^,],%39[^,],%39[^,],%*[^,]%n", o, a, fn, &k), 3);
        snprintf(names[f], 128, "%s/%s/%s", o, a, fn);
        p += k;
        for (int m = 0; m < minutes; m++) {
            char *end;
            c[f * (size_t)minutes + (size_t)m] = (uint32_t)strtoul(p + 1, &end, 10);
            p = end;
        }
        p++;
    }
    return c;
}

/* Which mapped function (by target and group) a row is; -1 if none. */
static long fn_of(const lm_azure_result *r, const lm_trace_row *row) {
    for (size_t i = 0; i < r->nfns; i++)
        if (strcmp(r->fns[i].target, row->function) == 0 &&
            strcmp(r->fns[i].group, row->payload->group) == 0)
            return (long)i;
    return -1;
}

static long name_index(char (*names)[128], size_t nf, const lm_azure_fn *p) {
    char k[300];
    snprintf(k, sizeof(k), "%s/%s/%s", p->owner, p->app, p->function);
    for (size_t f = 0; f < nf; f++)
        if (strcmp(names[f], k) == 0) return (long)f;
    return -1;
}

/* Every selected function's rows per scaled minute equal its counts. */
static void check_counts(const files *f, size_t nf, int minutes, const lm_azure_opts *o) {
    char(*names)[128] = calloc(nf, sizeof(*names));
    uint32_t *c = counts_of(f->inv, nf, minutes, names);
    lm_azure_result r;
    ok2019(f->inv, f->dur, o, &r);
    int from = o->minute_from ? o->minute_from : 1, to = o->minute_to ? o->minute_to : minutes;
    size_t span = (size_t)(to - from + 1);
    uint64_t *got = calloc(r.nfns * span, sizeof(*got));
    double len = 60e6 / o->speedup;
#define START(i) ((int64_t)floor((double)(i)*60e6 / o->speedup))
    for (size_t i = 0; i < r.trace->nrows; i++) {
        long k = fn_of(&r, &r.trace->rows[i]);
        assert_true(k >= 0);
        size_t m = (size_t)floor((double)r.trace->rows[i].offset_us / len);
        /* Right at a boundary the floor of the scaled start decides. */
        while (m + 1 < span && START(m + 1) <= r.trace->rows[i].offset_us)
            m++;
        while (m > 0 && START(m) > r.trace->rows[i].offset_us)
            m--;
        assert_true(m < span);
        got[(size_t)k * span + m]++;
    }
    for (size_t k = 0; k < r.nfns; k++) {
        long fi = name_index(names, nf, &r.fns[k]);
        assert_true(fi >= 0);
        uint64_t cum = 0, total = 0;
        for (size_t m = 0; m < span; m++) {
            uint64_t want = c[(size_t)fi * (size_t)minutes + (size_t)from - 1 + m];
            uint64_t keep = (uint64_t)o->thin_ppm * (cum + want) / 1000000 -
                            (uint64_t)o->thin_ppm * cum / 1000000;
            cum += want;
            total += keep;
            if (got[k * span + m] != keep)
                fprintf(stderr, "%s minute %zu: %llu rows, want %llu\n", names[fi], from + m,
                        (unsigned long long)got[k * span + m], (unsigned long long)keep);
            assert_int_equal(got[k * span + m], keep);
        }
        assert_int_equal(r.fns[k].rows, total);
        assert_int_equal(r.fns[k].invocations, cum);
    }
    free(got);
    free(c);
    free(names);
    lm_azure_result_free(&r);
}

static void test_2019_counts_exact(void **state) {
    (void)state;
    /* 24 functions over 8 targets and 5 groups: every trace function has a
     * target and group of its own, so rows can be told apart. */
    files f = synth2019(24, 1440, 3);
    lm_azure_opts o;
    lm_azure_defaults(&o);
    o.groups[0] = "xs", o.groups[1] = "s", o.groups[2] = "1", o.groups[3] = "2", o.groups[4] = "3",
    o.ngroups = 5;
    check_counts(&f, 24, 1440, &o);
    o.minute_from = 100, o.minute_to = 220;
    check_counts(&f, 24, 1440, &o);
    o.top = 5;
    check_counts(&f, 24, 1440, &o);
    o.speedup = 7.5;
    check_counts(&f, 24, 1440, &o);
    o.iat = LM_IAT_UNIFORM;
    check_counts(&f, 24, 1440, &o);
    o.iat = LM_IAT_EQUIDISTANT;
    o.speedup = 60; /* a minute a second */
    check_counts(&f, 24, 1440, &o);
    o.thin_ppm = 333333;
    o.top = 0;
    check_counts(&f, 24, 1440, &o);
    o.speedup = 0.5;
    o.minute_from = 1, o.minute_to = 1440;
    check_counts(&f, 24, 1440, &o);
    free(f.inv);
    free(f.dur);
}

/* One function, one minute of n invocations, under iat. */
static lm_azure_result one_minute(uint64_t n, lm_azure_iat iat) {
    char inv[256];
    snprintf(inv, sizeof(inv), "HashOwner,HashApp,HashFunction,Trigger,1,2\no,a,f,http,%llu,0\n",
             (unsigned long long)n);
    lm_azure_opts o;
    lm_azure_defaults(&o);
    o.iat = iat;
    lm_azure_result r;
    ok2019(inv, NULL, &o, &r);
    assert_int_equal(r.trace->nrows, n);
    return r;
}

/* The n + 1 gaps of a minute (the last one to the minute's end), in us. */
static double *minute_gaps(const lm_trace *t) {
    double *g = malloc((t->nrows + 1) * sizeof(*g)), prev = 0;
    for (size_t i = 0; i < t->nrows; i++) {
        g[i] = (double)t->rows[i].offset_us - prev;
        prev = (double)t->rows[i].offset_us;
    }
    g[t->nrows] = 60e6 - prev;
    return g;
}

/* Exponential: the first n partial sums of n + 1 Exp gaps over their total
 * are n sorted U(0, 1), so each gap is Beta(1, n) of the minute:
 * P(gap <= x) = 1 - (1 - x / 60 s)^n. Its probability transform is U(0, 1). */
static double *beta_pit(const double *g, size_t n) {
    double *u = malloc((n + 1) * sizeof(*u));
    for (size_t i = 0; i <= n; i++)
        u[i] = 1 - pow(1 - g[i] / 60e6, (double)n);
    return u;
}

/* Uniform: the gaps are U(0,1) draws times one common factor; over the
 * largest, the others are n iid U(0, 1), exactly. */
static double *ratio_to_max(const double *g, size_t n) {
    size_t imax = 0;
    for (size_t i = 1; i <= n; i++)
        if (g[i] > g[imax]) imax = i;
    double *u = malloc(n * sizeof(*u));
    for (size_t i = 0, k = 0; i <= n; i++)
        if (i != imax) u[k++] = g[i] / g[imax];
    return u;
}

static void test_2019_iat_ks(void **state) {
    (void)state;
    const size_t n = 20000;
    double crit = lm_test_ks_critical_01(n + 1);
    lm_azure_result r = one_minute(n, LM_IAT_EXPONENTIAL);
    double *g = minute_gaps(r.trace), *u = beta_pit(g, n);
    double d = lm_test_ks(u, n + 1, lm_test_cdf_uniform01, NULL);
    fprintf(stderr, "exponential minute: D %.5f, critical %.5f\n", d, crit);
    assert_true(d < crit);
    free(u);
    /* ... and those gaps are not iid uniform: the test has power. */
    u = ratio_to_max(g, n);
    assert_true(lm_test_ks(u, n, lm_test_cdf_uniform01, NULL) > lm_test_ks_critical_01(n));
    free(u);
    free(g);
    lm_azure_result_free(&r);

    r = one_minute(n, LM_IAT_UNIFORM);
    g = minute_gaps(r.trace);
    u = ratio_to_max(g, n);
    d = lm_test_ks(u, n, lm_test_cdf_uniform01, NULL);
    fprintf(stderr, "uniform minute: D %.5f, critical %.5f\n", d, lm_test_ks_critical_01(n));
    assert_true(d < lm_test_ks_critical_01(n));
    free(u);
    u = beta_pit(g, n);
    assert_true(lm_test_ks(u, n + 1, lm_test_cdf_uniform01, NULL) > crit);
    free(u);
    free(g);
    lm_azure_result_free(&r);

    /* Equidistant: every gap is 60 s / (n + 1), to the microsecond. */
    r = one_minute(7, LM_IAT_EQUIDISTANT);
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(r.trace->rows[i].offset_us, (int64_t)floor(60e6 * (double)(i + 1) / 8));
    lm_azure_result_free(&r);
}

/* Exponential arrivals across a day of minutes of 1 to 60 invocations:
 * pooled over every minute, each gap's Beta(1, n) transform is uniform. */
static void test_2019_iat_ks_pooled(void **state) {
    (void)state;
    lm_buf inv = {0};
    lm_buf_printf(&inv, "HashOwner,HashApp,HashFunction,Trigger");
    for (int m = 1; m <= 1440; m++)
        lm_buf_printf(&inv, ",%d", m);
    lm_buf_printf(&inv, "\no,a,f,http");
    for (int m = 1; m <= 1440; m++)
        lm_buf_printf(&inv, ",%d", 1 + m * 7919 % 60);
    lm_buf_printf(&inv, "\n");
    lm_azure_opts o;
    lm_azure_defaults(&o);
    lm_azure_result r;
    ok2019(inv.data, NULL, &o, &r);
    const lm_trace *t = r.trace;
    double *u = malloc((t->nrows + 1440) * sizeof(*u));
    size_t k = 0;
    for (size_t i = 0; i < t->nrows;) {
        int64_t m = t->rows[i].offset_us / 60000000;
        size_t j = i;
        while (j < t->nrows && t->rows[j].offset_us / 60000000 == m)
            j++;
        double n = (double)(j - i), prev = (double)m * 60e6;
        for (size_t x = i; x <= j; x++) {
            double at = x < j ? (double)t->rows[x].offset_us : (double)(m + 1) * 60e6;
            u[k++] = 1 - pow(1 - (at - prev) / 60e6, n);
            prev = at;
        }
        i = j;
    }
    double d = lm_test_ks(u, k, lm_test_cdf_uniform01, NULL), crit = lm_test_ks_critical_01(k);
    fprintf(stderr, "pooled minutes: %zu gaps, D %.5f, critical %.5f\n", k, d, crit);
    assert_true(d < crit);
    free(u);
    lm_azure_result_free(&r);
    lm_buf_free(&inv);
}

static void test_2019_seed(void **state) {
    (void)state;
    files f = synth2019(6, 120, 5);
    lm_azure_opts o;
    lm_azure_defaults(&o);
    lm_azure_result a, b, c;
    ok2019(f.inv, f.dur, &o, &a);
    ok2019(f.inv, f.dur, &o, &b);
    o.seed = 2;
    ok2019(f.inv, f.dur, &o, &c);
    char *x = NULL, *y = NULL, *z = NULL;
    size_t nx, ny, nz;
    FILE *m = open_memstream(&x, &nx);
    lm_trace_write(m, a.trace);
    fclose(m);
    m = open_memstream(&y, &ny);
    lm_trace_write(m, b.trace);
    fclose(m);
    m = open_memstream(&z, &nz);
    lm_trace_write(m, c.trace);
    fclose(m);
    assert_string_equal(x, y);
    assert_string_not_equal(x, z);
    /* What the replay makes, the reader accepts. */
    FILE *in = fmemopen(x, nx, "r");
    lm_trace *t;
    char err[LM_ERRLEN];
    int rc = lm_trace_read_stream(in, "replay.csv", NULL, &t, err);
    if (rc != LM_OK) fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, LM_OK);
    assert_int_equal(t->nrows, a.trace->nrows);
    fclose(in);
    lm_trace_free(t);
    free(x);
    free(y);
    free(z);
    lm_azure_result_free(&a);
    lm_azure_result_free(&b);
    lm_azure_result_free(&c);
    lm_azure_result_free(NULL);
    free(f.inv);
    free(f.dur);
}

#define INV_HEAD "HashOwner,HashApp,HashFunction,Trigger,1,2,3\n"
#define DUR_HEAD "HashOwner,HashApp,HashFunction,Average,Count\n"

static void test_2019_mapping_rule(void **state) {
    (void)state;
    /* 16 functions with averages 16, 15, ..., 1 ms and invocations 1..16. */
    char inv[4096] = INV_HEAD, dur[4096] = DUR_HEAD;
    for (int i = 0; i < 16; i++) {
        char line[128];
        snprintf(line, sizeof(line), "o,a,f%02d,http,%d,0,0\n", i, i + 1);
        strcat(inv, line);
        snprintf(line, sizeof(line), "o,a,f%02d,%d,%d\n", i, 16 - i, i + 1);
        strcat(dur, line);
    }
    lm_azure_opts o;
    lm_azure_defaults(&o);
    lm_azure_result r;
    ok2019(inv, dur, &o, &r);
    static const char *const order[] = {"fibonacci",       "prime-numbers",    "audio-generation",
                                        "decrypt-message", "encrypt-message",  "language-detection",
                                        "fuzzy-search",    "mandelbrot-bitmap"};
    assert_int_equal(r.nfns, 16);
    for (size_t k = 0; k < 16; k++) {
        /* Rank k is the function with the k+1-th shortest mean: f15 first. */
        char want[8];
        snprintf(want, sizeof(want), "f%02zu", 15 - k);
        assert_string_equal(r.fns[k].function, want);
        assert_int_equal(r.fns[k].rank, k);
        assert_string_equal(r.fns[k].target, order[k / 2]);
        /* Two per target over groups xs, s, 1: j * 3 / 2 = 0, 1. */
        assert_string_equal(r.fns[k].group, k % 2 ? "s" : "xs");
        assert_true(r.fns[k].mean_ms == (double)(k + 1));
    }
    lm_azure_result_free(&r);
    /* Without durations: by invocations, most first. */
    ok2019(inv, NULL, &o, &r);
    assert_string_equal(r.fns[0].function, "f15");
    assert_true(r.fns[0].mean_ms == -1);
    assert_string_equal(r.fns[15].function, "f00");
    assert_string_equal(r.fns[15].target, "mandelbrot-bitmap");
    lm_azure_result_free(&r);
    /* Three functions over eight targets: ranks 0, 1, 2 go to targets 0, 2, 5. */
    o.top = 3;
    ok2019(inv, dur, &o, &r);
    assert_string_equal(r.fns[0].target, "fibonacci");
    assert_string_equal(r.fns[1].target, "audio-generation");
    assert_string_equal(r.fns[2].target, "language-detection");
    assert_string_equal(r.fns[2].group, "xs");
    lm_azure_result_free(&r);
    /* Own targets and groups. */
    lm_azure_defaults(&o);
    o.targets[0] = "noop", o.ntargets = 1, o.groups[0] = "2", o.ngroups = 1;
    ok2019(inv, dur, &o, &r);
    for (size_t i = 0; i < r.trace->nrows; i++) {
        assert_string_equal(r.trace->rows[i].function, "noop");
        assert_string_equal(r.trace->rows[i].payload->text, "group:2");
    }
    lm_azure_result_free(&r);
}

static void test_2019_unmapped(void **state) {
    (void)state;
    const char *inv = INV_HEAD "o,a,f1,http,1,2,3\no,a,f2,timer,0,1,0\no,a,f3,http,5,5,5\n";
    const char *dur = DUR_HEAD "o,a,f1,10,6\no,a,f3,100,15\n";
    lm_azure_opts o;
    lm_azure_defaults(&o);
    err2019(inv, dur, &o,
            "inv.csv:3: function o/a/f2 maps to nothing: it is not in the durations file (give "
            "--skip-unmapped to leave such functions out)");
    o.skip_unmapped = 1;
    lm_azure_result r;
    ok2019(inv, dur, &o, &r);
    assert_int_equal(r.nfns, 2);
    assert_int_equal(r.skipped, 1);
    assert_int_equal(r.trace->nrows, 21);
    lm_azure_result_free(&r);
    /* Not invoked in the window: not selected, so not an error. */
    o.skip_unmapped = 0;
    o.minute_from = 3, o.minute_to = 3;
    ok2019(inv, dur, &o, &r);
    assert_int_equal(r.nfns, 2);
    assert_int_equal(r.trace->nrows, 8);
    lm_azure_result_free(&r);
    /* Outside the top 2: not an error either. */
    o.minute_from = 0, o.minute_to = 0, o.top = 2;
    ok2019(inv, dur, &o, &r);
    assert_int_equal(r.nfns, 2);
    lm_azure_result_free(&r);
}

static void test_2019_bad_files(void **state) {
    (void)state;
    lm_azure_opts o;
    lm_azure_defaults(&o);
    err2019("", NULL, &o,
            "inv.csv: the file is empty (want HashOwner,HashApp,HashFunction,Trigger,1,...,1440)");
    err2019(INV_HEAD, NULL, &o, "inv.csv: no rows after the header (no functions)");
    err2019(INV_HEAD "o,a,f,http,1,2\n", NULL, &o,
            "inv.csv:2: truncated row: 6 fields, the header has 7");
    err2019(INV_HEAD "o,a,f,http,1,2,3,4\n", NULL, &o,
            "inv.csv:2: overlong row: 8 fields, the header has 7");
    err2019(INV_HEAD "o,a,f,http,1,x,3\n", NULL, &o,
            "inv.csv:2: minute 2: 'x' is not a whole number of invocations (0 to 1000000000)");
    err2019(INV_HEAD "o,a,f,http,1,2.5,3\n", NULL, &o,
            "inv.csv:2: minute 2: '2.5' is not a whole number of invocations (0 to 1000000000)");
    err2019(INV_HEAD "o,a,f,http,1,,3\n", NULL, &o,
            "inv.csv:2: minute 2: '' is not a whole number of invocations (0 to 1000000000)");
    err2019(INV_HEAD "o,a,f,http,1,2,-3\n", NULL, &o, "inv.csv:2: minute 3: -3 is negative");
    err2019("HashOwner,HashApp,HashFunction,1,2\no,a,f,1,2\n", NULL, &o,
            "inv.csv:1: missing column 'Trigger' (the 2019 invocations format)");
    err2019("HashOwner,HashApp,HashFunction,Trigger\no,a,f,http\n", NULL, &o,
            "inv.csv:1: missing column '1' (no minute columns)");
    err2019("HashOwner,HashApp,HashFunction,Trigger,1,3\no,a,f,http,1,2\n", NULL, &o,
            "inv.csv:1: missing column '2' (minutes run 1 to 3)");
    err2019("HashOwner,HashApp,HashFunction,Trigger,1,Average\n", NULL, &o,
            "inv.csv:1: column 'Average' is not in the 2019 invocations format (HashOwner, "
            "HashApp, HashFunction, Trigger, 1..1440)");
    err2019("HashOwner,HashApp,HashFunction,Trigger,1,1\n", NULL, &o,
            "inv.csv:1: column '1' given twice");
    err2019(INV_HEAD "o,a,f,http,0,0,0\n", NULL, &o, "inv.csv: no invocations in the window");
    o.minute_from = 2, o.minute_to = 5;
    err2019(INV_HEAD "o,a,f,http,1,2,3\n", NULL, &o, "--minutes 2-5: inv.csv has minutes 1 to 3");
    lm_azure_defaults(&o);
    err2019(INV_HEAD "o,a,f,http,1,2,3\n", "HashOwner,HashApp,Average\n", &o,
            "dur.csv:1: missing column 'HashFunction' (a durations file has HashOwner, HashApp, "
            "HashFunction, Average, ...)");
    err2019(INV_HEAD "o,a,f,http,1,2,3\n", DUR_HEAD "o,a,f,fast,1\n", &o,
            "dur.csv:2: Average: 'fast' is not a duration in milliseconds (>= 0)");
    err2019(INV_HEAD "o,a,f,http,1,2,3\n", DUR_HEAD "o,a,f,1\n", &o,
            "dur.csv:2: truncated row: 4 fields, the header has 5");
    /* Options. */
    o.speedup = 0;
    err2019(INV_HEAD "o,a,f,http,1,2,3\n", NULL, &o, "--speedup: 0 must be a positive number");
    lm_azure_defaults(&o);
    o.targets[0] = "fib", o.ntargets = 1;
    err2019(INV_HEAD "o,a,f,http,1,2,3\n", NULL, &o,
            "--functions: unknown function 'fib' (see `lumos functions`)");
    lm_azure_defaults(&o);
    o.groups[0] = "big", o.ngroups = 1;
    err2019(INV_HEAD "o,a,f,http,1,2,3\n", NULL, &o,
            "--groups: unknown payload group 'big' (groups: xs, s, 1, 2, 3; see docs/data.md)");
    lm_azure_defaults(&o);
    o.thin_ppm = 1;
    err2019(INV_HEAD "o,a,f,http,1,2,3\n", NULL, &o,
            "inv.csv: thinning left no invocations "
            "(raise --thin)");
}

#define H21 "app,func,end_timestamp,duration\n"

static void test_2021_order(void **state) {
    (void)state;
    /* In end order; the starts are not: b starts first (100 - 2.5 = 97.5). */
    const char *text = H21 "a,f,99.0,0.5\n"
                           "b,g,100.0,2.5\n"
                           "a,f,130.25,0.25\n"
                           "a,h,130.25,0.25\n"
                           "c,k,200.0,150.0\n";
    lm_azure_opts o;
    lm_azure_defaults(&o);
    lm_azure_result r;
    char err[LM_ERRLEN];
    int rc = run2021(text, &o, &r, err);
    if (rc != LM_OK) fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, LM_OK);
    /* Starts 98.5, 97.5, 130, 130, 50: the window is minutes 1 to 3, from 0 s. */
    const int64_t want[] = {50000000, 97500000, 98500000, 130000000, 130000000};
    assert_int_equal(r.trace->nrows, 5);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(r.trace->rows[i].offset_us, want[i]);
    assert_string_equal(lm_trace_get_key(r.trace, "minutes"), "1-3");
    /* Ranked by mean duration: a/f (375 ms), a/h (250 ms) ... */
    assert_string_equal(r.fns[0].app, "a");
    assert_string_equal(r.fns[0].function, "h");
    assert_true(r.fns[0].mean_ms == 250);
    assert_string_equal(r.fns[1].function, "f");
    assert_int_equal(r.fns[1].invocations, 2);
    assert_string_equal(r.fns[3].app, "c");
    /* Ties keep file order: the row of a/f (line 4) before a/h (line 5). */
    assert_string_equal(r.trace->rows[3].function, r.fns[1].target);
    assert_string_equal(r.trace->rows[4].function, r.fns[0].target);
    lm_azure_result_free(&r);
    /* A window and a speed-up: minute 2 only (60..120 s), twice as fast. */
    o.minute_from = 2, o.minute_to = 2, o.speedup = 2;
    assert_int_equal(run2021(text, &o, &r, err), LM_OK);
    assert_int_equal(r.trace->nrows, 2);
    assert_int_equal(r.trace->rows[0].offset_us, 18750000);
    assert_int_equal(r.trace->rows[1].offset_us, 19250000);
    lm_azure_result_free(&r);
    /* Thinning keeps every other invocation of a function, in start order. */
    lm_azure_defaults(&o);
    o.thin_ppm = 500000;
    char many[8192] = H21;
    for (int i = 0; i < 100; i++) {
        char line[64];
        snprintf(line, sizeof(line), "a,f,%d.5,0.5\n", 100 - i);
        strcat(many, line);
    }
    assert_int_equal(run2021(many, &o, &r, err), LM_OK);
    assert_int_equal(r.trace->nrows, 50);
    assert_int_equal(r.trace->rows[0].offset_us, 2000000);
    assert_int_equal(r.trace->rows[1].offset_us, 4000000);
    lm_azure_result_free(&r);
}

static void test_2021_bad_files(void **state) {
    (void)state;
    err2021("", "t21.csv: the file is empty (want app,func,end_timestamp,duration)");
    err2021(H21, "t21.csv: no rows after the header (no invocations)");
    err2021("app,func,end_timestamp\na,f,1\n",
            "t21.csv:1: missing column 'duration' (the 2021 format has app, func, end_timestamp, "
            "duration)");
    err2021("app,func,end_timestamp,duration,x\n",
            "t21.csv:1: column 'x' is not in the 2021 format (app, func, end_timestamp, "
            "duration)");
    err2021(H21 "a,f,1.0\n", "t21.csv:2: truncated row: 3 fields, the header has 4");
    err2021(H21 "a,f,soon,1\n", "t21.csv:2: end_timestamp: 'soon' is not a number of seconds");
    err2021(H21 "a,f,5,-1\n", "t21.csv:2: duration: '-1' is not a number of seconds (>= 0)");
    err2021(H21 "a,f,nan,1\n", "t21.csv:2: end_timestamp: 'nan' is not a number of seconds");
    err2021(H21 "a,f,1e300,1\n",
            "t21.csv:2: end_timestamp: 1e300 is beyond 100000000 seconds (about three years)");
}

static void test_synth(void **state) {
    (void)state;
    files a = synth2019(12, 1440, 1), b = synth2019(12, 1440, 1), c = synth2019(12, 1440, 2);
    assert_string_equal(a.inv, b.inv);
    assert_string_equal(a.dur, b.dur);
    assert_string_not_equal(a.inv, c.inv);
    assert_memory_equal(a.inv, "HashOwner,HashApp,HashFunction,Trigger,1,2,3,", 45);
    free(a.inv), free(a.dur), free(b.inv), free(b.dur), free(c.inv), free(c.dur);
    char *x = NULL;
    size_t n;
    FILE *m = open_memstream(&x, &n);
    lm_azure_synth_opts o;
    lm_azure_synth_defaults(&o);
    char err[LM_ERRLEN];
    assert_int_equal(lm_azure_synth2021(m, &o, err), LM_OK);
    fclose(m);
    assert_memory_equal(x, H21, strlen(H21));
    free(x);
    o.functions = 0;
    assert_int_equal(lm_azure_synth2021(stdout, &o, err), LM_ERR);
    assert_string_equal(err, "--functions: 0 must be from 1 to 1000");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_2019_counts_exact),  cmocka_unit_test(test_2019_iat_ks),
        cmocka_unit_test(test_2019_iat_ks_pooled), cmocka_unit_test(test_2019_seed),
        cmocka_unit_test(test_2019_mapping_rule),  cmocka_unit_test(test_2019_unmapped),
        cmocka_unit_test(test_2019_bad_files),     cmocka_unit_test(test_2021_order),
        cmocka_unit_test(test_2021_bad_files),     cmocka_unit_test(test_synth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
