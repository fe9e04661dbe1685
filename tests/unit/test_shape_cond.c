/* test_shape_cond.c -- link conditions and schedules (src/shape/shape.h):
 * the compact and JSON parsers accept what the docs show, refuse bad input
 * with a message naming the token, the formatter reads back to the same
 * condition, schedules parse from text and JSON and give the condition in
 * force at a time; free accepts NULL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "shape/shape.h"
#include "util/util.h"

#define MS 1000000ull

static void test_parse_full(void **state) {
    lm_shape_cond c;
    char err[LM_ERRLEN] = "";
    assert_int_equal(lm_shape_cond_parse(
                         "delay=20ms,jitter=5ms:normal,loss=1%,rate=100mbit,reorder=0.5%", &c, err),
                     LM_OK);
    assert_int_equal(c.delay_ns, 20 * MS);
    assert_int_equal(c.jitter_ns, 5 * MS);
    assert_int_equal(c.dist, LM_SHAPE_JITTER_NORMAL);
    assert_true(c.loss == 0.01);
    assert_int_equal(c.rate_bps, 100000000);
    assert_true(c.reorder == 0.005);
    assert_int_equal(c.reorder_gap_ns, 0);
    assert_int_equal(lm_shape_rto_ns(&c), 200 * MS);

    assert_int_equal(
        lm_shape_cond_parse(
            "rate=1.5kbps,delay=1.5s,jitter=250us:pareto-normal,reorder=0.1:3ms,rto=1s", &c, err),
        LM_OK);
    assert_int_equal(c.rate_bps, 12000);
    assert_int_equal(c.delay_ns, 1500 * MS);
    assert_int_equal(c.jitter_ns, 250000);
    assert_int_equal(c.dist, LM_SHAPE_JITTER_PARETO_NORMAL);
    assert_int_equal(c.reorder_gap_ns, 3 * MS);
    assert_int_equal(lm_shape_rto_ns(&c), 1000 * MS);
    /* A bare number is ms; the default RTO follows a long delay. */
    assert_int_equal(lm_shape_cond_parse("delay=150,jitter=10:uniform", &c, err), LM_OK);
    assert_int_equal(c.delay_ns, 150 * MS);
    assert_int_equal(c.dist, LM_SHAPE_JITTER_UNIFORM);
    assert_int_equal(lm_shape_rto_ns(&c), 380 * MS);
    assert_int_equal(lm_shape_cond_parse("", &c, err), LM_OK);
    assert_true(lm_shape_cond_is_none(&c));
    assert_int_equal(lm_shape_cond_parse("none", &c, err), LM_OK);
    assert_true(lm_shape_cond_is_none(&c));
}

static void bad(const char *s, const char *want) {
    lm_shape_cond c;
    char err[LM_ERRLEN] = "";
    assert_int_equal(lm_shape_cond_parse(s, &c, err), LM_ERR);
    if (!strstr(err, want)) fail_msg("'%s': error '%s' lacks '%s'", s, err, want);
    assert_true(lm_shape_cond_is_none(&c));
}

static void test_parse_bad(void **state) {
    bad("delay=20ms,delay=30ms", "given twice");
    bad("latency=20ms", "unknown key 'latency'");
    bad("delay=20ms,", "is not key=value");
    bad("delay", "is not key=value");
    bad("delay=20xs", "unknown time unit");
    bad("delay=-5ms", "not a time");
    bad("delay= 5ms", "not a time");
    bad("delay=2h", "unknown time unit");
    bad("delay=61m", "more than an hour");
    bad("loss=101%", "at most 1");
    bad("loss=1.5", "at most 1");
    bad("loss=1%%", "not a probability");
    bad("loss=nan", "not a probability");
    bad("rate=100", "needs a unit");
    bad("rate=0mbit", "at least 1bit");
    bad("rate=1e20gbit", "too fast");
    bad("jitter=5ms:gauss", "unknown jitter distribution");
    bad("delay=5ms:normal", "only jitter and reorder");
    bad("reorder=0:5ms", "reorder gap without");
    bad("rto=100us", "at least 1ms");
    bad("delay=0x10", "unknown time unit");
}

static void roundtrip(const char *s) {
    lm_shape_cond a, b;
    char err[LM_ERRLEN] = "", out[256];
    assert_int_equal(lm_shape_cond_parse(s, &a, err), LM_OK);
    lm_shape_cond_format(&a, out, sizeof out);
    if (lm_shape_cond_parse(out, &b, err) != LM_OK)
        fail_msg("'%s' formats as '%s': %s", s, out, err);
    assert_memory_equal(&a, &b, sizeof a);
}

static void test_format_roundtrip(void **state) {
    roundtrip("delay=20ms,jitter=5ms:normal,loss=1%,rate=100mbit,reorder=0.5%");
    roundtrip("delay=1.000001ms,jitter=1ns:uniform,loss=0.123456789123,rate=1234567bit");
    roundtrip("reorder=1%:7us,rto=3s,jitter=0ms:pareto-normal");
    roundtrip("none");
    char out[128];
    lm_shape_cond c;
    char err[LM_ERRLEN];
    assert_int_equal(lm_shape_cond_parse("loss=1%,delay=2000ms,rate=8kbps", &c, err), LM_OK);
    assert_string_equal(lm_shape_cond_format(&c, out, sizeof out), "delay=2s,loss=1%,rate=64kbit");
}

static void test_json(void **state) {
    lm_shape_cond c;
    char err[LM_ERRLEN] = "";
    assert_int_equal(
        lm_shape_cond_parse_json("{\"delay_ms\": 20, \"jitter_ms\": 2.5, \"jitter_dist\": "
                                 "\"uniform\", \"loss\": 0.01, \"rate_bps\": 1e8}",
                                 &c, err),
        LM_OK);
    assert_int_equal(c.delay_ns, 20 * MS);
    assert_int_equal(c.jitter_ns, 2500000);
    assert_int_equal(c.dist, LM_SHAPE_JITTER_UNIFORM);
    assert_int_equal(c.rate_bps, 100000000);
    assert_int_equal(lm_shape_cond_parse_json("\"delay=3ms\"", &c, err), LM_OK);
    assert_int_equal(c.delay_ns, 3 * MS);
    assert_int_equal(lm_shape_cond_parse_json("{\"delay\": 20}", &c, err), LM_ERR);
    assert_non_null(strstr(err, "unknown key \"delay\""));
    assert_int_equal(lm_shape_cond_parse_json("{\"loss\": 2}", &c, err), LM_ERR);
    assert_int_equal(lm_shape_cond_parse_json("{\"delay_ms\": -1}", &c, err), LM_ERR);
    assert_int_equal(lm_shape_cond_parse_json("{\"delay_ms\": 1, \"delay_ms\": 2}", &c, err),
                     LM_ERR);
    assert_int_equal(lm_shape_cond_parse_json("[1]", &c, err), LM_ERR);
    assert_int_equal(lm_shape_cond_parse_json("{", &c, err), LM_ERR);
    assert_non_null(strstr(err, "bad JSON"));
}

static void test_sched(void **state) {
    lm_shape_sched s;
    char err[LM_ERRLEN] = "";
    assert_int_equal(
        lm_shape_sched_parse(
            "# a link that degrades\n0s delay=20ms\n2m delay=200ms,loss=5% # cut\n4m delay=20ms\n",
            &s, err),
        LM_OK);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.steps[1].at_ns, 120000 * MS);
    assert_int_equal(lm_shape_sched_at(&s, 0)->delay_ns, 20 * MS);
    assert_int_equal(lm_shape_sched_at(&s, 120000 * MS - 1)->delay_ns, 20 * MS);
    assert_int_equal(lm_shape_sched_at(&s, 120000 * MS)->delay_ns, 200 * MS);
    assert_true(lm_shape_sched_at(&s, 200000 * MS)->loss == 0.05);
    assert_int_equal(lm_shape_sched_at(&s, 1000000 * MS)->delay_ns, 20 * MS);
    lm_shape_sched_free(&s);
    assert_int_equal(lm_shape_sched_parse("1s delay=5ms; 2s none", &s, err), LM_OK);
    assert_true(lm_shape_cond_is_none(lm_shape_sched_at(&s, 999 * MS))); /* before the first step */
    assert_int_equal(lm_shape_sched_at(&s, 1500 * MS)->delay_ns, 5 * MS);
    lm_shape_sched_free(&s);
    assert_int_equal(lm_shape_sched_parse("delay=7ms", &s, err), LM_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.steps[0].at_ns, 0);
    lm_shape_sched_free(&s);
    assert_int_equal(
        lm_shape_sched_parse("[{\"at_s\": 0, \"condition\": \"delay=1ms\"}, {\"at_s\": 0.5, "
                             "\"condition\": {\"loss\": 0.5}}]",
                             &s, err),
        LM_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.steps[1].at_ns, 500 * MS);
    assert_true(s.steps[1].cond.loss == 0.5);
    lm_shape_sched_free(&s);

    static const struct {
        const char *text, *want;
    } bads[] = {
        {"2m delay=1ms; 1m delay=2ms", "increase strictly"},
        {"1m delay=1ms; 1m delay=2ms", "increase strictly"},
        {"delay=1ms; 1m delay=2ms", "needs its time"},
        {"5 delay=1ms", "needs a unit"},
        {"1m delay=1ms loss=1%", "no spaces"},
        {"1m bogus=1", "step 1: condition: unknown key"},
        {"1m", "not 'AT CONDITION'"},
        {"# nothing\n", "no steps"},
        {"[]", "non-empty array"},
        {"[{\"at_s\": 1}]", "step 1 must be"},
        {"[{\"at_s\": -1, \"condition\": \"none\"}]", "at_s must be"},
        {"[{\"at_s\": 1, \"condition\": \"none\", \"x\": 1}]", "step 1 must be"},
        {"[{\"at_s\": 2, \"condition\": \"none\"}, {\"at_s\": 1, \"condition\": \"none\"}]",
         "increase"},
    };
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        err[0] = 0;
        assert_int_equal(lm_shape_sched_parse(bads[i].text, &s, err), LM_ERR);
        if (!strstr(err, bads[i].want))
            fail_msg("'%s': error '%s' lacks '%s'", bads[i].text, err, bads[i].want);
        assert_null(s.steps);
        assert_int_equal(s.n, 0);
    }
    lm_shape_sched_free(NULL); /* harmless */
    assert_true(lm_shape_cond_is_none(lm_shape_sched_at(NULL, 5)));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_full),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_format_roundtrip),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_sched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
