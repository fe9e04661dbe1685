/* test_exp_knative.c -- the knative run's names (experiment.h,
 * knative_names.c): template tokens and their errors, service names as
 * DNS labels matching `lumos deploy`'s, the URL chosen for a service and
 * the ingress target (internal.h), the instance set's pod lookup, and its
 * free of NULL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "deploy/deploy.h"
#include "experiment/internal.h"

static void test_expand(void **state) {
    (void)state;
    char out[128], err[LM_ERRLEN];
    assert_int_equal(lm_exp_expand("http://{service}.ns.example.com/{function}/{runtime}",
                                   "fibonacci", "wasm-aot", "fibonacci-wasm-aot", out, sizeof out,
                                   err),
                     LM_OK);
    assert_string_equal(out, "http://fibonacci-wasm-aot.ns.example.com/fibonacci/wasm-aot");
    assert_int_equal(lm_exp_expand("plain", "f", "r", "s", out, sizeof out, err), LM_OK);
    assert_string_equal(out, "plain");
    assert_int_equal(lm_exp_expand("{fn}", "f", "r", "s", out, sizeof out, err), LM_ERR);
    assert_non_null(strstr(err, "unknown token {fn}"));
    assert_int_equal(lm_exp_expand("a{service", "f", "r", "s", out, sizeof out, err), LM_ERR);
    assert_non_null(strstr(err, "column 2 is not closed"));
    assert_int_equal(lm_exp_expand("a}", "f", "r", "s", out, sizeof out, err), LM_ERR);
    assert_non_null(strstr(err, "without its '{'"));
    assert_int_equal(lm_exp_expand("{function}{function}", "abcdef", "r", "s", out, 8, err),
                     LM_ERR);
    assert_non_null(strstr(err, "too long"));
}

static void test_service_names(void **state) {
    (void)state;
    char out[128], want[128], err[LM_ERRLEN];
    /* The default is the name `lumos deploy` gives the Service. */
    const char *rts[] = {"container+wasm-aot", "wasmedge", "crun-wasm", "native"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(lm_exp_service_name(NULL, "fuzzy-search", rts[i], out, sizeof out, err),
                         LM_OK);
        assert_int_equal(lm_deploy_service_name("fuzzy-search", rts[i], want, sizeof want, err),
                         LM_OK);
        assert_string_equal(out, want);
    }
    assert_int_equal(lm_exp_service_name("Bench_{function}--{runtime}-", "fib", "wasm-aot", out,
                                         sizeof out, err),
                     LM_OK);
    assert_string_equal(out, "bench-fib-wasm-aot");
    assert_int_equal(lm_exp_service_name("9{function}", "f", "r", out, sizeof out, err), LM_ERR);
    assert_non_null(strstr(err, "must begin with a letter"));
    char longfn[80];
    memset(longfn, 'a', 70);
    longfn[70] = 0;
    assert_int_equal(lm_exp_service_name(NULL, longfn, "r", out, sizeof out, err), LM_ERR);
    assert_non_null(strstr(err, "over 57"));
}

static void test_urls(void **state) {
    (void)state;
    char url[256], svc[64], connect[256], host[128], err[LM_ERRLEN];
    char *urls[] = {"fibonacci-native=http://127.0.0.1:9/x"};
    lm_exp_knative kn = {.url_template = "http://{service}.default.example.com/",
                         .service_urls = urls,
                         .nservice_urls = 1};
    assert_int_equal(lm__kn_url(&kn, "fibonacci", "native", url, sizeof url, svc, sizeof svc, err),
                     LM_OK);
    assert_string_equal(url, "http://127.0.0.1:9/x");
    assert_int_equal(
        lm__kn_url(&kn, "fibonacci", "wasm-aot", url, sizeof url, svc, sizeof svc, err), LM_OK);
    assert_string_equal(url, "http://fibonacci-wasm-aot.default.example.com/");
    /* A named host needs the ingress; with it, the host goes as Host:. */
    assert_int_equal(lm__kn_target(&kn, url, connect, sizeof connect, host, sizeof host, err),
                     LM_ERR);
    assert_non_null(strstr(err, "--ingress"));
    kn.ingress = "10.0.0.5:31080";
    assert_int_equal(lm__kn_target(&kn, url, connect, sizeof connect, host, sizeof host, err),
                     LM_OK);
    assert_string_equal(connect, "http://10.0.0.5:31080/");
    assert_string_equal(host, "fibonacci-wasm-aot.default.example.com");
    kn.url_template = NULL;
    assert_int_equal(lm__kn_url(&kn, "noop", "native", url, sizeof url, svc, sizeof svc, err),
                     LM_ERR);
    assert_non_null(strstr(err, "--service-url noop-native=URL"));
}

static void test_seen(void **state) {
    (void)state;
    lm__kn_seen_free(NULL);
    lm__kn_seen *s = lm__kn_seen_new();
    assert_non_null(s);
    assert_int_equal(lm__kn_seen_add(s, "pod-a/native-1", "uid-a"), 1);
    assert_int_equal(lm__kn_seen_add(s, "pod-a/native-1", "uid-a"), 0);
    assert_int_equal(lm__kn_seen_add(s, "pod-a/native-2", "uid-a"), 1);
    assert_int_equal(lm__kn_seen_add(s, "pod-b/native-1", NULL), 1);
    assert_string_equal(lm__kn_instance_of(s, "uid-a"), "pod-a/native-2");
    assert_null(lm__kn_instance_of(s, "uid-b"));
    assert_null(lm__kn_instance_of(s, ""));
    lm__kn_seen_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_service_names),
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_seen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
