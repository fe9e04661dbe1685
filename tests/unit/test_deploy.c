/* test_deploy.c -- the deploy room's pieces: the YAML writer (quoting,
 * nesting, empty containers), a service's Knative autoscaling annotations
 * with Knative's rounding and ranges, service and image names, the runtime
 * class table and its override file's errors, and the frees of NULL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "deploy/internal.h"

static void yaml_of(const char *json, const char *want) {
    json_t *v = json_loads(json, 0, NULL);
    assert_non_null(v);
    lm_buf b = {0};
    assert_int_equal(lm__deploy_yaml(&b, v), LM_OK);
    if (strcmp(b.data, want) != 0) fprintf(stderr, "got:\n%s\nwant:\n%s\n", b.data, want);
    assert_string_equal(b.data, want);
    lm_buf_free(&b);
    json_decref(v);
}

static void test_yaml(void **state) {
    (void)state;
    yaml_of("{\"a\":\"x\",\"b\":1,\"c\":true,\"d\":null,\"e\":{},\"f\":[]}",
            "---\na: \"x\"\nb: 1\nc: true\nd: null\ne: {}\nf: []\n");
    /* Strings that YAML would read as other types stay strings. */
    yaml_of("{\"k\":\"true\",\"n\":\"0.7\",\"q\":\"a \\\"b\\\"\\n\"}",
            "---\nk: \"true\"\nn: \"0.7\"\nq: \"a \\\"b\\\"\\n\"\n");
    /* A key that is not a plain name is quoted. */
    yaml_of("{\"autoscaling.knative.dev/class\":\"kpa\",\"a b\":1,\"1x\":2}",
            "---\nautoscaling.knative.dev/class: \"kpa\"\n\"a b\": 1\n\"1x\": 2\n");
    /* Sequences of mappings and of sequences. */
    yaml_of("{\"l\":[{\"n\":\"a\",\"v\":{\"x\":1}},\"s\",[1,2]]}",
            "---\nl:\n  - n: \"a\"\n    v:\n      x: 1\n  - \"s\"\n  - - 1\n    - 2\n");
    /* A scalar document is refused. */
    json_t *s = json_string("x");
    lm_buf b = {0};
    assert_int_equal(lm__deploy_yaml(&b, s), LM_ERR);
    json_decref(s);
    lm_buf_free(&b);
}

static const char *ann(json_t *a, const char *key) {
    char k[128];
    snprintf(k, sizeof(k), "autoscaling.knative.dev/%s", key);
    const char *v = json_string_value(json_object_get(a, k));
    assert_non_null(v);
    return v;
}

static void test_annotations(void **state) {
    (void)state;
    lm_service_spec s;
    lm_service_spec_defaults(&s);
    snprintf(s.name, sizeof(s.name), "fibonacci@container");
    lm_buf notes = {0};
    json_t *a = lm_deploy_autoscaling_annotations(&s, &notes);
    assert_string_equal(ann(a, "class"), "kpa.autoscaling.knative.dev");
    assert_string_equal(ann(a, "metric"), "concurrency");
    assert_string_equal(ann(a, "target"), "1");
    assert_string_equal(ann(a, "target-utilization-percentage"), "100");
    assert_string_equal(ann(a, "window"), "60s");
    assert_string_equal(ann(a, "panic-window-percentage"), "10");
    assert_string_equal(ann(a, "panic-threshold-percentage"), "200");
    assert_string_equal(ann(a, "min-scale"), "0");
    assert_string_equal(ann(a, "max-scale"), "4");
    assert_string_equal(ann(a, "initial-scale"), "0");
    assert_string_equal(ann(a, "scale-down-delay"), "60s");
    assert_null(notes.data); /* the defaults fit Knative as they are */
    json_decref(a);

    /* Knative's ranges: a window below 6 s, a delay above 1 h, a delay
     * rounded up to whole seconds, a panic window under 1% of the window. */
    s.cfg.stable_window_ms = 1000;
    s.cfg.panic_window_ms = 10;
    s.cfg.idle_timeout_ms = 7200000;
    s.cfg.target = 0.005;
    s.cfg.panic_threshold = 1.5;
    a = lm_deploy_autoscaling_annotations(&s, &notes);
    assert_string_equal(ann(a, "window"), "6s");
    assert_string_equal(ann(a, "panic-window-percentage"), "1");
    assert_string_equal(ann(a, "scale-down-delay"), "3600s");
    assert_string_equal(ann(a, "target"), "0.01");
    assert_string_equal(ann(a, "panic-threshold-percentage"), "150");
    assert_non_null(notes.data);
    assert_non_null(strstr(notes.data, "fibonacci@container: stable_window_ms 1000 is outside"));
    assert_non_null(strstr(notes.data, "idle_timeout_ms 7200000 is above"));
    assert_non_null(strstr(notes.data, "target 0.005 is below"));
    json_decref(a);
    lm_buf_free(&notes);

    s.cfg.idle_timeout_ms = 1001;
    s.cfg.stable_window_ms = 90400;
    s.cfg.panic_window_ms = 30000;
    a = lm_deploy_autoscaling_annotations(&s, NULL); /* notes may be NULL */
    assert_string_equal(ann(a, "scale-down-delay"), "2s");
    assert_string_equal(ann(a, "window"), "90s");
    assert_string_equal(ann(a, "panic-window-percentage"), "33.333");
    json_decref(a);

    /* autoscaler none: the nearest KPA. */
    lm_service_spec_defaults(&s);
    s.cfg.autoscaler = LM_AUTOSCALER_NONE;
    s.cfg.container_concurrency = 3;
    s.cfg.target = 1;
    a = lm_deploy_autoscaling_annotations(&s, &notes);
    assert_string_equal(ann(a, "target"), "3");
    assert_string_equal(ann(a, "panic-threshold-percentage"), "110");
    assert_non_null(strstr(notes.data, "autoscaler none has no Knative equivalent"));
    json_decref(a);
    lm_buf_free(&notes);
}

static void test_names(void **state) {
    (void)state;
    char out[128], err[LM_ERRLEN];
    assert_int_equal(
        lm_deploy_service_name("fibonacci", "container+wasm-aot", out, sizeof(out), err), LM_OK);
    assert_string_equal(out, "fibonacci-container-wasm-aot");
    assert_int_equal(lm_deploy_service_name("a", "B_c.d", out, sizeof(out), err), LM_OK);
    assert_string_equal(out, "a-b-c-d");
    char longname[80];
    memset(longname, 'x', 60);
    longname[60] = 0;
    assert_int_equal(lm_deploy_service_name(longname, "native", out, sizeof(out), err), LM_ERR);
    assert_non_null(strstr(err, "at most 57"));
    assert_int_equal(lm_deploy_service_name("9lives", "native", out, sizeof(out), err), LM_ERR);

    assert_int_equal(
        lm_deploy_image_ref("reg:5000/", "fibonacci", "wasm", "t1", out, sizeof(out), err), LM_OK);
    assert_string_equal(out, "reg:5000/lumos-fibonacci-wasm:t1");
    assert_int_equal(lm_deploy_image_ref("reg/p", "", "agent", "latest", out, sizeof(out), err),
                     LM_OK);
    assert_string_equal(out, "reg/p/lumos-agent:latest");
    assert_int_equal(lm_deploy_image_ref("https://reg", "f", "wasm", "t", out, sizeof(out), err),
                     LM_ERR);
    assert_int_equal(lm_deploy_image_ref("reg", "f", "wasm", "a:b", out, sizeof(out), err), LM_ERR);
    assert_int_equal(lm_deploy_image_ref("", "f", "wasm", "t", out, sizeof(out), err), LM_ERR);
    assert_int_equal(lm_deploy_image_ref("reg", "f", "wasm", "t", out, 10, err), LM_ERR);
}

static int load_text(lm_deploy_classes *c, const char *text, char *err) {
    char path[] = "/tmp/lumos-classes-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    int rc = lm_deploy_classes_load(c, path, err);
    unlink(path);
    return rc;
}

static void test_classes(void **state) {
    (void)state;
    lm_deploy_classes c;
    lm_deploy_classes_default(&c);
    const lm_deploy_class *w = lm_deploy_class_find(&c, "wasmedge");
    assert_non_null(w);
    assert_string_equal(w->runtime_class, "wasmedge");
    assert_string_equal(w->image, "wasm");
    const lm_deploy_class *cw = lm_deploy_class_find(&c, "crun-wasm");
    assert_non_null(cw);
    assert_string_equal(cw->handler, "crun");
    assert_true(cw->wasm_annotation);
    assert_null(lm_deploy_class_find(&c, "wasm3"));
    char err[LM_ERRLEN];
    int n = c.n;
    assert_int_equal(load_text(&c,
                               "{\"classes\":[{\"runtime\":\"wasmedge\",\"handler\":\"we\"},"
                               "{\"runtime\":\"wasm3\",\"runtime_class\":\"runc\",\"handler\":"
                               "\"runc\",\"image\":\"front-wasm-interp\"}]}",
                               err),
                     LM_OK);
    assert_int_equal(c.n, n + 1);
    assert_string_equal(lm_deploy_class_find(&c, "wasmedge")->handler, "we");
    assert_string_equal(lm_deploy_class_find(&c, "wasmedge")->runtime_class, "wasmedge");
    assert_string_equal(lm_deploy_class_find(&c, "wasm3")->image, "front-wasm-interp");
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"{\"klasses\":[]}", "klasses: unknown field"},
        {"{\"classes\":{}}", "an array is required"},
        {"{\"classes\":[{\"handler\":\"x\"}]}", "classes[0].runtime: a string is required"},
        {"{\"classes\":[{\"runtime\":\"new\",\"handler\":\"x\"}]}", "a new runtime needs"},
        {"{\"classes\":[{\"runtime\":\"wasmedge\",\"handler\":\"Bad_Name\"}]}", "not a DNS label"},
        {"{\"classes\":[{\"runtime\":\"wasmedge\",\"wasm_annotation\":1}]}", "true or false"},
        {"{\"classes\":[{\"runtime\":\"wasmedge\",\"image\":\"front-wasm-jit\"}]}",
         "not an image Lumos builds"},
        {"{\"classes\": [", "expected near end of file"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        lm_deploy_classes_default(&c);
        err[0] = 0;
        assert_int_equal(load_text(&c, bad[i].text, err), LM_ERR);
        if (!strstr(err, bad[i].want)) fprintf(stderr, "want %s, got %s\n", bad[i].want, err);
        assert_non_null(strstr(err, bad[i].want));
    }
}

static void test_free_null(void **state) {
    (void)state;
    lm_deploy_result_free(NULL);
    lm_deploy_result r = {0};
    lm_deploy_result_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml),      cmocka_unit_test(test_annotations),
        cmocka_unit_test(test_names),     cmocka_unit_test(test_classes),
        cmocka_unit_test(test_free_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
