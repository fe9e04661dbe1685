/* test_nodes.c -- the node config reader (built-in profiles, bad input
 * named by field) and the placement policies (src/node/). Needs no root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "node/node.h"

static void test_builtin(void **state) {
    lm_node_config c;
    char err[LM_ERRLEN];
    assert_int_equal(lm_node_config_load(NULL, &c, err), LM_OK);
    const lm_node_profile *p = lm_node_profile_find(&c, "pi4", err);
    assert_non_null(p);
    assert_int_equal(p->cpus, 4);
    assert_int_equal(p->memory_limit, 4096ull << 20);
    assert_true(p->target_score > 0);
    assert_string_equal(p->target_unit, "events/s");
    assert_non_null(lm_node_profile_find(&c, "pi5", err));
    assert_null(lm_node_profile_find(&c, "pi9", err));
    assert_non_null(strstr(err, "known in (built-in nodes): pi4, pi5, cloud"));
}

static void expect_refused(const char *text, const char *want) {
    lm_node_config c;
    char err[LM_ERRLEN] = "";
    assert_int_equal(lm_node_config_parse(text, strlen(text), "t.json", &c, err), LM_ERR);
    if (!strstr(err, want)) fail_msg("'%s' not in '%s'", want, err);
    assert_int_equal(c.n, 0);
}

static void test_refuses(void **state) {
    expect_refused("{", "t.json: line 1");
    expect_refused("{\"version\":2,\"nodes\":[{\"name\":\"a\"}]}", "\"version\" must be 1");
    expect_refused("{\"version\":1,\"nodes\":[]}", "\"nodes\" must be an array of 1 to");
    expect_refused("{\"version\":1,\"nodes\":[{\"name\":\"A\"}]}", "must be 1-23 of a-z");
    expect_refused("{\"version\":1,\"nodes\":[{\"name\":\"a\"},{\"name\":\"a\"}]}",
                   "the name \"a\" is given twice");
    expect_refused("{\"version\":1,\"nodes\":[{\"name\":\"a\",\"cpu_fraction\":1.5}]}",
                   "\"cpu_fraction\" must be a number from 0 to 1");
    expect_refused("{\"version\":1,\"nodes\":[{\"name\":\"a\",\"target\":{\"score\":5,"
                   "\"unit\":\"MIPS\",\"source\":\"x\"}}]}",
                   "is not the calibration benchmark's");
    expect_refused("{\"version\":1,\"nodes\":[{\"name\":\"a\",\"memory_mib\":-1}]}",
                   "t.json: nodes[0] (a): \"memory_mib\" must be an integer");
}

static void test_place(void **state) {
    lm_node_profile a = {.name = "a", .max_instances = 2}, b = {.name = "b", .max_instances = 2};
    b.naffinity = 1;
    strcpy(b.affinity[0], "fibonacci");
    lm_place_node n[2] = {{.p = &a, .available = 1, .instances = 1},
                          {.p = &b, .available = 1, .instances = 0}};
    assert_int_equal(lm_place(LM_PLACE_SPREAD, n, 2, "noop"), 1);
    assert_int_equal(lm_place(LM_PLACE_BINPACK, n, 2, "noop"), 0);
    n[0].instances = 2; /* full: bin-pack moves on */
    assert_int_equal(lm_place(LM_PLACE_BINPACK, n, 2, "noop"), 1);
    n[1].instances = 5;
    assert_int_equal(lm_place(LM_PLACE_AFFINITY, n, 2, "fibonacci"), 1);
    assert_int_equal(lm_place(LM_PLACE_AFFINITY, n, 2, "noop"), 0);
    n[0].available = n[1].available = 0;
    for (int p = 0; p < LM_PLACE_COUNT; p++)
        assert_int_equal(lm_place(p, n, 2, "fibonacci"), -1);
    assert_int_equal(lm_place_find("bin-pack"), LM_PLACE_BINPACK);
    assert_int_equal(lm_place_find("random"), -1);
}

static void test_bench(void **state) {
    assert_int_equal(lm_node_bench_run(1, LM_NODE_BENCH_MAX_PRIME), 1229);
    assert_int_equal(lm_node_bench_run(2, 100), 25);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin),
        cmocka_unit_test(test_refuses),
        cmocka_unit_test(test_place),
        cmocka_unit_test(test_bench),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
