/* test_report_env.c -- the report's environment dimension (src/report/env.c)
 * on a results database written through the results writer with known
 * numbers: fibonacci on native, warm, closed loop of one, 20 requests per
 * environment on host/none (compute 10 ms, storage I/O 1 ms), pi4/none
 * (compute 23 ms: 2.3x) and host/congested (I/O 5 ms), each value times
 * 1 + 0.01 (k mod 5). Known answers: the JSON's environment rows with the
 * added compute (+13.26 ms on pi4) and I/O (+4.08 ms on congested), the
 * ratios of the medians (2.3 and 5), the findings' sentences, the text
 * table, environment.csv and the env figure's data; a file of one
 * environment has none of it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <math.h>

#include "report/doc.h"
#include "results/results.h"

static char dir[256];

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/lumos-test-report-env-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state) {
    (void)state;
    if (!getenv("KEEP"))
        lm_rmtree(dir);
    else
        printf("kept %s\n", dir);
    return 0;
}

static void near(double got, double want, double rel) {
    if (!(fabs(got - want) <= rel * fmax(fabs(want), 1e-300)))
        fail_msg("got %.17g, want %.17g (relative %.3g)", got, want, rel);
}

typedef struct {
    const char *node, *network; /* NULL: none */
    double compute_ms, io_ms;
} env_def;

static void write_db(const char *path, const env_def *e, int n) {
    char err[LM_ERRLEN];
    lm_results *r = lm_results_open(path, NULL, err);
    if (!r) fail_msg("%s", err);
    assert_int_equal(lm_results_set_meta(r, "experiment.name", "env-test", err), LM_OK);
    assert_int_equal(lm_results_set_meta(r, "experiment.network.none", "none", err), LM_OK);
    assert_int_equal(
        lm_results_set_meta(r, "experiment.network.congested", "rate=5mbit,delay=40ms", err),
        LM_OK);
    int64_t id = 0;
    for (int i = 0; i < n; i++) {
        lm_results_service s;
        lm_results_service_init(&s);
        s.id = i + 1;
        s.name = "fibonacci@native";
        s.function = "fibonacci";
        s.runtime = "native";
        assert_int_equal(lm_results_add_service(r, &s, err), LM_OK);
        lm_results_cell c;
        lm_results_cell_init(&c);
        char name[200];
        snprintf(name, sizeof name, "fibonacci@native/group:s/warm/closed:1x20/node:%s/net:%s/rep1",
                 e[i].node ? e[i].node : "host", e[i].network ? e[i].network : "none");
        c.id = i + 1;
        c.name = name;
        c.function = "fibonacci";
        c.runtime = "native";
        c.payload = "group:s";
        c.start = "warm";
        c.load = "closed";
        c.concurrency = 1;
        c.repetition = 1;
        c.service_id = s.id;
        c.status = "done";
        c.node = e[i].node;
        c.network = e[i].network;
        assert_int_equal(lm_results_put_cell(r, &c, err), LM_OK);
        for (int k = 0; k < 20; k++) {
            double f = 1 + 0.01 * (k % 5);
            int64_t cmp = (int64_t)llround(e[i].compute_ms * 1e6 * f);
            int64_t io = (int64_t)llround(e[i].io_ms * 1e6 * f);
            int64_t t0 = 1000000000 + id * 100000000;
            lm_results_request q;
            lm_results_request_init(&q);
            q.id = ++id;
            q.service_id = s.id;
            q.instance_id = "native-1";
            q.status_http = 200;
            q.cold = 0;
            q.intended_send_ns = t0;
            q.send_ns = t0;
            q.ingress_ns = t0 + 100000;
            q.queued_ns = q.acquired_ns = q.ingress_ns;
            q.dispatch_ns = q.ingress_ns + 100000;
            q.deser_ns = 100000;
            q.io_ns = io;
            q.compute_ns = cmp;
            q.ser_ns = 100000;
            q.func_total_ns = 200000 + io + cmp;
            q.result_ns = q.dispatch_ns + q.func_total_ns;
            q.response_ns = q.result_ns + 100000;
            q.receive_ns = q.response_ns + 100000;
            q.cell_id = c.id;
            q.node = e[i].node;
            assert_int_equal(lm_results_add_request(r, &q, err), LM_OK);
        }
    }
    assert_int_equal(lm_results_flush(r, err), LM_OK);
    lm_results_close(r);
}

static char *print(const lm_report_doc *d, int json) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    if (json)
        lm_report_doc_print_json(d, f);
    else
        lm_report_doc_print_text(d, f);
    fclose(f);
    return buf;
}

static const env_def three[] = {
    {NULL, "none", 10, 1},
    {"pi4", "none", 23, 1},
    {NULL, "congested", 10, 5},
};

static void test_env_table_and_findings(void **state) {
    (void)state;
    char db[512], out[512], err[LM_ERRLEN];
    snprintf(db, sizeof db, "%s/env.db", dir);
    snprintf(out, sizeof out, "%s/rep", dir);
    write_db(db, three, 3);
    lm_report_doc_opts o = {.db = db, .dir = out};
    lm_report_doc *d = NULL;
    if (lm_report_doc_read(&o, &d, err) != LM_OK) fail_msg("%s", err);

    char *js = print(d, 1);
    json_error_t je;
    json_t *root = json_loads(js, 0, &je);
    assert_non_null(root);
    json_t *env = json_object_get(root, "environment");
    assert_true(json_is_object(env));
    assert_true(json_is_null(json_object_get(env, "reference_node")));
    assert_string_equal(json_string_value(json_object_get(env, "reference_network")), "none");
    json_t *rows = json_object_get(env, "rows");
    assert_int_equal(json_array_size(rows), 3);
    /* host/none is the reference: nothing added. */
    json_t *r0 = json_array_get(rows, 0);
    near(json_real_value(json_object_get(json_object_get(r0, "added"), "compute_ms")), 0, 1e-9);
    /* pi4: +13 ms x 1.02 of compute, nothing else; the median ratio 2.3. */
    json_t *r1 = json_array_get(rows, 1);
    assert_string_equal(json_string_value(json_object_get(r1, "node")), "pi4");
    json_t *add1 = json_object_get(r1, "added");
    near(json_real_value(json_object_get(add1, "compute_ms")), 13.26, 1e-6);
    assert_true(fabs(json_real_value(json_object_get(add1, "io_ms"))) < 1e-9);
    assert_true(fabs(json_real_value(json_object_get(add1, "platform_ms"))) < 1e-9);
    near(json_real_value(json_object_get(add1, "total_ms")), 13.26, 1e-6);
    json_t *c1 = json_object_get(r1, "compute");
    near(json_real_value(json_object_get(c1, "ratio")), 2.3, 1e-9);
    assert_true(json_is_true(json_object_get(c1, "significant")));
    /* congested: +4 ms x 1.02 of storage I/O; ratio 5. */
    json_t *r2 = json_array_get(rows, 2);
    assert_string_equal(json_string_value(json_object_get(r2, "network")), "congested");
    near(json_real_value(json_object_get(json_object_get(r2, "added"), "io_ms")), 4.08, 1e-6);
    near(json_real_value(json_object_get(json_object_get(r2, "io"), "ratio")), 5, 1e-9);
    /* The pools are per environment: the runtime comparisons do not mix them. */
    assert_int_equal(json_array_size(json_object_get(root, "pools")), 3);
    int pi4_compute = 0, congested_io = 0, pi4_io_none = 0;
    json_t *f;
    size_t i;
    json_array_foreach(json_object_get(root, "findings"), i, f) {
        const char *t = json_string_value(json_object_get(f, "text"));
        const char *topic = json_string_value(json_object_get(f, "topic"));
        if (!t || !topic) continue;
        if (!strcmp(topic, "env-compute") && strstr(t, "On pi4/none, compute time is 2.30x "
                                                       "host/none's"))
            pi4_compute = json_is_true(json_object_get(f, "supported"));
        if (!strcmp(topic, "env-io") && strstr(t, "On host/congested, storage I/O time is 5.00x"))
            congested_io = 1;
        if (!strcmp(topic, "env-io") && strstr(t, "On pi4/none, no significant difference"))
            pi4_io_none = 1;
    }
    assert_true(pi4_compute);
    assert_true(congested_io);
    assert_true(pi4_io_none);
    json_decref(root);
    free(js);

    char *txt = print(d, 0);
    assert_non_null(strstr(txt, "environment: the same function on each node and link"));
    assert_non_null(strstr(txt, "pi4/none"));
    assert_non_null(strstr(txt, "+13.3"));
    assert_non_null(strstr(txt, "2.30x*"));
    free(txt);

    /* The HTML report's folder: the table as CSV, the figure's data. */
    if (lm_report_doc_write_html(d, err) != LM_OK) fail_msg("%s", err);
    char p[700];
    snprintf(p, sizeof p, "%s/environment.csv", out);
    size_t len = 0;
    char *csv = lm_file_read_max(p, 1 << 20, &len, err);
    assert_non_null(csv);
    assert_non_null(strstr(csv, "added_compute_ms"));
    assert_non_null(strstr(csv, "fibonacci,native,group:s,warm,pi4,none,host/none,20,"));
    free(csv);
    snprintf(p, sizeof p, "%s/figures/env-fibonacci.csv", out);
    csv = lm_file_read_max(p, 1 << 20, &len, err);
    assert_non_null(csv);
    assert_non_null(strstr(csv, "s warm@native pi4/none,"));
    free(csv);
    snprintf(p, sizeof p, "%s/index.html", out);
    char *html = lm_file_read_max(p, 1 << 22, &len, err);
    assert_non_null(html);
    assert_non_null(strstr(html, "<h2 id=\"environment\">"));
    free(html);
    lm_report_doc_free(d);
}

/* Without a host cell, the reference is the first node the cells name. */
static void test_env_reference_without_host(void **state) {
    (void)state;
    static const env_def two[] = {{"pi5", "none", 12, 1}, {"pi4", "none", 24, 1}};
    char db[512], err[LM_ERRLEN];
    snprintf(db, sizeof db, "%s/nohost.db", dir);
    write_db(db, two, 2);
    lm_report_doc_opts o = {.db = db};
    lm_report_doc *d = NULL;
    if (lm_report_doc_read(&o, &d, err) != LM_OK) fail_msg("%s", err);
    char *js = print(d, 1);
    json_t *root = json_loads(js, 0, NULL);
    json_t *env = json_object_get(root, "environment");
    assert_string_equal(json_string_value(json_object_get(env, "reference_node")), "pi5");
    json_t *r1 = json_array_get(json_object_get(env, "rows"), 1);
    near(json_real_value(json_object_get(json_object_get(r1, "compute"), "ratio")), 2, 1e-9);
    json_decref(root);
    free(js);
    lm_report_doc_free(d);
    /* --env-reference: pi4 the reference, pi5 half its compute. */
    o.env_reference = "pi4/none";
    if (lm_report_doc_read(&o, &d, err) != LM_OK) fail_msg("%s", err);
    js = print(d, 1);
    root = json_loads(js, 0, NULL);
    env = json_object_get(root, "environment");
    assert_string_equal(json_string_value(json_object_get(env, "reference_node")), "pi4");
    json_t *r0 = json_array_get(json_object_get(env, "rows"), 0);
    near(json_real_value(json_object_get(json_object_get(r0, "compute"), "ratio")), 0.5, 1e-9);
    near(json_real_value(json_object_get(json_object_get(r0, "added"), "compute_ms")), -12.24,
         1e-6);
    json_decref(root);
    free(js);
    lm_report_doc_free(d);
    o.env_reference = "host";
    assert_int_equal(lm_report_doc_read(&o, &d, err), LM_ERR);
    assert_null(d);
    assert_non_null(strstr(err, "--env-reference host: no cell ran there"));
}

/* One environment: no section, and the JSON says null. */
static void test_one_env_has_none(void **state) {
    (void)state;
    static const env_def one[] = {{NULL, NULL, 10, 1}};
    char db[512], err[LM_ERRLEN];
    snprintf(db, sizeof db, "%s/one.db", dir);
    write_db(db, one, 1);
    lm_report_doc_opts o = {.db = db};
    lm_report_doc *d = NULL;
    if (lm_report_doc_read(&o, &d, err) != LM_OK) fail_msg("%s", err);
    char *js = print(d, 1);
    json_t *root = json_loads(js, 0, NULL);
    assert_true(json_is_null(json_object_get(root, "environment")));
    json_decref(root);
    free(js);
    char *txt = print(d, 0);
    assert_null(strstr(txt, "environment:"));
    free(txt);
    lm_report_doc_free(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_env_table_and_findings),
        cmocka_unit_test(test_env_reference_without_host),
        cmocka_unit_test(test_one_env_has_none),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
