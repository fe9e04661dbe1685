/* test_load_trace.c -- a trace into the load client's requests
 * (src/load/trace_plan.c): a known trace read into requests (times, paths,
 * bodies from files and groups, the cold header), paths and bodies stored
 * once, quoted fields, a closed trace, and bad input with file, line and
 * field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "load/trace_plan.h"

static char dir[256];

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/lumos-test-trace-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    char p[300];
    snprintf(p, sizeof(p), "%s/body.json", dir);
    FILE *f = fopen(p, "w");
    fputs("{\"n\":93}", f);
    fclose(f);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    lm_rmtree(dir);
    return 0;
}

static const char *write_trace(const char *name, const char *text) {
    static char p[300];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static int calls;
static int group(void *arg, const char *function, const char *g, lm_buf *body, char *err) {
    (void)arg;
    calls++;
    if (strcmp(g, "3") == 0) return lm_errf(err, "no group %s", g);
    return lm_buf_printf(body, "{\"fn\":\"%s\",\"group\":\"%s\"}", function, g);
}

static void test_known_trace(void **state) {
    (void)state;
    const char *path = write_trace("t.csv", "# lumos-trace 1 mode=open pattern=poisson rate_rps=50 "
                                            "duration_s=60 seed=1 future=key\n"
                                            "offset_us,function,runtime,payload,start\n"
                                            "0,fibonacci,native,group:1,any\n"
                                            "18211,noop,wasm-aot,group:xs,cold\n"
                                            "18211,fibonacci,native,group:1,warm\n"
                                            "20000,fibonacci,,\"file:body.json\",any\n"
                                            "30000,noop,wasm-aot,group:xs,any\n");
    lm_load_plan p;
    char err[LM_ERRLEN] = "";
    calls = 0;
    assert_int_equal(lm_load_trace_plan(path, group, NULL, &p, err), LM_OK);
    assert_int_equal(p.n, 5);
    assert_int_equal(p.closed, 0);
    assert_string_equal(p.meta, "mode=open pattern=poisson rate_rps=50 duration_s=60 seed=1 "
                                "future=key");
    assert_int_equal(p.reqs[1].offset_ns, 18211000);
    assert_int_equal(p.reqs[3].offset_ns, 20000000);
    assert_string_equal(p.reqs[0].path, "/function/fibonacci@native");
    assert_string_equal(p.reqs[1].path, "/function/noop@wasm-aot");
    assert_string_equal(p.reqs[3].path, "/function/fibonacci");
    assert_ptr_equal(p.reqs[0].path, p.reqs[2].path); /* stored once */
    assert_ptr_equal(p.reqs[1].body, p.reqs[4].body);
    assert_int_equal(calls, 2); /* one call per distinct function and group */
    assert_memory_equal(p.reqs[0].body, "{\"fn\":\"fibonacci\",\"group\":\"1\"}",
                        p.reqs[0].body_len);
    assert_int_equal(p.reqs[3].body_len, 8);
    assert_memory_equal(p.reqs[3].body, "{\"n\":93}", 8);
    assert_null(p.reqs[0].headers);
    assert_string_equal(p.reqs[1].headers, "X-Lumos-Start: cold\r\n");
    assert_null(p.reqs[2].headers); /* warm: nothing to send */
    assert_null(p.reqs[0].method);  /* POST */
    lm_load_plan_free(&p);
    lm_load_plan_free(NULL); /* a harmless no-op */

    path = write_trace("c.csv", "# lumos-trace 1 mode=closed concurrency=4\r\n"
                                "offset_us,function,runtime,payload,start\r\n"
                                "0,noop,,file:body.json,any\r\n"
                                "0,noop,,file:body.json,any\r\n");
    assert_int_equal(lm_load_trace_plan(path, NULL, NULL, &p, err), LM_OK);
    assert_int_equal(p.closed, 1);
    assert_int_equal(p.concurrency, 4);
    assert_int_equal(p.n, 2);
    lm_load_plan_free(&p);
}

static void bad(const char *text, int with_groups, const char *msg) {
    const char *path = write_trace("bad.csv", text);
    lm_load_plan p;
    char err[LM_ERRLEN] = "", want[LM_ERRLEN];
    assert_int_equal(lm_load_trace_plan(path, with_groups ? group : NULL, NULL, &p, err), LM_ERR);
    lm_load_plan_free(&p);
    snprintf(want, sizeof(want), "%s%s", path, msg);
    if (strncmp(err, want, strlen(want)) != 0) {
        fprintf(stderr, "got  '%s'\nwant '%s...'\n", err, want);
        fail();
    }
}

#define HEAD "# lumos-trace 1 mode=open\noffset_us,function,runtime,payload,start\n"

/* The trace reader's errors come through with file, line and field (its
 * own tests hold every message); the plan adds the payload's. */
static void test_bad_traces(void **state) {
    (void)state;
    bad(HEAD "1500,noop,,group:xs,any\n1200,noop,,group:xs,any\n", 1,
        ":4: offset_us: 1200 is before the previous row's 1500 (the trace must be sorted)");
    bad(HEAD "0,nosuch,,group:xs,any\n", 1, ":3: function: ");
    bad(HEAD "0,noop,,group:xs,any\n", 0,
        ": row 1: payload: group:xs needs the data set (give --data DIR)");
    bad(HEAD "0,noop,,group:xs,any\n0,noop,,group:3,any\n", 1, ": row 2: payload: no group 3");
    lm_load_plan p;
    char err[LM_ERRLEN];
    assert_int_equal(lm_load_trace_plan("/nonexistent/t.csv", NULL, NULL, &p, err), LM_ERR);
    assert_non_null(strstr(err, "/nonexistent/t.csv"));
    lm_load_plan_free(&p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_trace),
        cmocka_unit_test(test_bad_traces),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
