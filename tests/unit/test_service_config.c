/* test_service_config.c -- the `lumos serve --config` file and POST
 * /services bodies: known good files, every class of error with its
 * message, layering, default runtimes, limits and the JSON round trip. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "platform/service_config.h"
#include "util/util.h"

/* Parses a whole file over the built-in defaults; fails the test on error. */
static void parse_ok(const char *json, lm_serve_config *c) {
    char err[LM_ERRLEN] = "";
    int rc = lm_serve_config_parse(json, strlen(json), NULL, c, err);
    if (rc != LM_OK) fprintf(stderr, "unexpected error: %s\n", err);
    assert_int_equal(rc, LM_OK);
}

/* A file that must be refused with a message containing want. */
static void file_err(const char *json, const char *want) {
    char err[LM_ERRLEN] = "";
    lm_serve_config c;
    int rc = lm_serve_config_parse(json, strlen(json), NULL, &c, err);
    if (rc == LM_OK || !strstr(err, want))
        fprintf(stderr, "input: %s\nwant: %s\ngot:  %s\n", json, want,
                rc == LM_OK ? "(accepted)" : err);
    assert_int_equal(rc, LM_ERR);
    assert_non_null(strstr(err, want));
    /* Nothing to free after an error. */
    assert_null(c.services);
    assert_int_equal(c.nservices, 0);
}

/* A POST body that must be refused with a message containing want. */
static void body_err(const char *json, const char *want) {
    char err[LM_ERRLEN] = "";
    lm_service_spec *specs = (lm_service_spec *)1;
    int n = -1;
    int rc = lm_service_specs_parse(json, strlen(json), NULL, NULL, &specs, &n, err);
    if (rc == LM_OK || !strstr(err, want))
        fprintf(stderr, "body: %s\nwant: %s\ngot:  %s\n", json, want,
                rc == LM_OK ? "(accepted)" : err);
    assert_int_equal(rc, LM_ERR);
    assert_non_null(strstr(err, want));
    assert_null(specs);
    assert_int_equal(n, 0);
}

/* A service entry that must be refused, as a file's services[0]. */
static void service_err(const char *service, const char *want) {
    char json[2048];
    snprintf(json, sizeof json, "{\"services\":[%s]}", service);
    file_err(json, want);
}

/* Parses one POST body with base and dr; exactly one spec expected. */
static lm_service_spec parse_one(const char *json, const lm_service_spec *base,
                                 const lm_default_runtimes *dr) {
    char err[LM_ERRLEN] = "";
    lm_service_spec *specs = NULL;
    int n = 0;
    int rc = lm_service_specs_parse(json, strlen(json), base, dr, &specs, &n, err);
    if (rc != LM_OK) fprintf(stderr, "unexpected error: %s\n", err);
    assert_int_equal(rc, LM_OK);
    assert_int_equal(n, 1);
    lm_service_spec s = specs[0];
    free(specs);
    return s;
}

static const char full_file[] =
    "{\n"
    "  \"defaults\": {\"max_scale\": 6, \"min_scale\": 1, \"idle_timeout_ms\": 1234,\n"
    "    \"queue_max\": 10, \"queue_timeout_ms\": 2000, \"request_timeout_ms\": 3000,\n"
    "    \"memory_limit_mib\": 128, \"container_concurrency\": 2, \"autoscaler\": \"none\",\n"
    "    \"stable_window_ms\": 30000, \"panic_window_ms\": 3000, \"panic_threshold\": 3,\n"
    "    \"tick_ms\": 1000},\n"
    "  \"default_runtimes\": {\"fibonacci\": \"wasm-aot\", \"*\": \"wasm-interp\"},\n"
    "  \"services\": [\n"
    "    {\"name\": \"fibonacci@wasm-jit\", \"max_scale\": 8, \"min_scale\": 0,\n"
    "     \"idle_timeout_ms\": 0, \"queue_max\": 0, \"queue_timeout_ms\": 1,\n"
    "     \"request_timeout_ms\": 86400000, \"memory_limit_mib\": 256,\n"
    "     \"container_concurrency\": 4, \"autoscaler\": \"kpa\", \"target\": 0.7,\n"
    "     \"stable_window_ms\": 20000, \"panic_window_ms\": 2000, \"panic_threshold\": 1.5,\n"
    "     \"tick_ms\": 500},\n"
    "    {\"name\": \"fibonacci\"},\n"
    "    {\"name\": \"prime-numbers\", \"container_concurrency\": 5},\n"
    "    {\"name\": \"noop@native\", \"target\": 1}\n"
    "  ]\n"
    "}\n";

static void test_full_file(void **state) {
    (void)state;
    lm_serve_config c;
    parse_ok(full_file, &c);
    /* defaults: built-in base with every field of "defaults" over it */
    const lm_service_spec *d = &c.defaults;
    assert_string_equal(c.defaults.name, "");
    assert_int_equal(d->cfg.max_scale, 6);
    assert_int_equal(d->cfg.min_scale, 1);
    assert_int_equal(d->cfg.idle_timeout_ms, 1234);
    assert_int_equal(d->cfg.queue_max, 10);
    assert_int_equal(d->cfg.queue_timeout_ms, 2000);
    assert_int_equal(d->cfg.request_timeout_ms, 3000);
    assert_int_equal(d->cfg.memory_limit, 128ull << 20);
    assert_int_equal(d->cfg.container_concurrency, 2);
    assert_int_equal(d->cfg.autoscaler, LM_AUTOSCALER_NONE);
    assert_true(d->cfg.target == 2.0); /* follows container_concurrency */
    assert_int_equal(c.defaults.target_set, 0);
    assert_int_equal(d->cfg.stable_window_ms, 30000);
    assert_int_equal(d->cfg.panic_window_ms, 3000);
    assert_true(d->cfg.panic_threshold == 3.0);
    assert_int_equal(d->cfg.tick_ms, 1000);

    assert_int_equal(c.runtimes.n, 1);
    assert_string_equal(c.runtimes.v[0].function, "fibonacci");
    assert_string_equal(c.runtimes.v[0].runtime, "wasm-aot");
    assert_string_equal(c.runtimes.fallback, "wasm-interp");

    assert_int_equal(c.nservices, 4);
    /* services[0]: every field its own */
    const lm_service_spec *s = &c.services[0];
    assert_string_equal(s->name, "fibonacci@wasm-jit");
    assert_string_equal(s->function, "fibonacci");
    assert_string_equal(s->runtime, "wasm-jit");
    assert_int_equal(s->cfg.max_scale, 8);
    assert_int_equal(s->cfg.min_scale, 0);
    assert_int_equal(s->cfg.idle_timeout_ms, 0);
    assert_int_equal(s->cfg.queue_max, 0);
    assert_int_equal(s->cfg.queue_timeout_ms, 1);
    assert_int_equal(s->cfg.request_timeout_ms, 86400000);
    assert_int_equal(s->cfg.memory_limit, 256ull << 20);
    assert_int_equal(s->cfg.container_concurrency, 4);
    assert_int_equal(s->cfg.autoscaler, LM_AUTOSCALER_KPA);
    assert_true(s->cfg.target == 0.7);
    assert_int_equal(s->target_set, 1);
    assert_int_equal(s->cfg.stable_window_ms, 20000);
    assert_int_equal(s->cfg.panic_window_ms, 2000);
    assert_true(s->cfg.panic_threshold == 1.5);
    assert_int_equal(s->cfg.tick_ms, 500);
    /* services[1]: all from defaults; runtime from default_runtimes */
    s = &c.services[1];
    assert_string_equal(s->name, "fibonacci@wasm-aot");
    assert_string_equal(s->runtime, "wasm-aot");
    assert_int_equal(s->cfg.max_scale, 6);
    assert_int_equal(s->cfg.memory_limit, 128ull << 20);
    assert_int_equal(s->cfg.autoscaler, LM_AUTOSCALER_NONE);
    assert_true(s->cfg.target == 2.0);
    /* services[2]: the "*" runtime; target follows its own concurrency */
    s = &c.services[2];
    assert_string_equal(s->name, "prime-numbers@wasm-interp");
    assert_int_equal(s->cfg.container_concurrency, 5);
    assert_true(s->cfg.target == 5.0);
    /* services[3]: an integer for a number field */
    s = &c.services[3];
    assert_string_equal(s->name, "noop@native");
    assert_true(s->cfg.target == 1.0);
    lm_serve_config_free(&c);
    assert_null(c.services);
    lm_serve_config_free(NULL); /* harmless */
}

static void test_empty_and_builtin_defaults(void **state) {
    (void)state;
    lm_serve_config c;
    parse_ok("{}", &c);
    lm_service_spec d;
    lm_service_spec_defaults(&d);
    assert_true(lm_service_spec_equal(&c.defaults, &d));
    assert_int_equal(c.nservices, 0);
    assert_null(c.services);
    assert_int_equal(c.runtimes.n, 0);
    assert_string_equal(lm_default_runtime(&c.runtimes, "fibonacci"), "native");
    lm_serve_config_free(&c);
    parse_ok(" {\"services\": [], \"defaults\": {}, \"default_runtimes\": {}} ", &c);
    assert_int_equal(c.nservices, 0);
    lm_serve_config_free(&c);
    /* The built-in defaults are the pool's, target following concurrency. */
    lm_service_config pc;
    lm_service_config_defaults(&pc);
    assert_int_equal(d.cfg.max_scale, pc.max_scale);
    assert_int_equal(d.cfg.queue_max, pc.queue_max);
    assert_int_equal(d.cfg.container_concurrency, 1);
    assert_int_equal(d.cfg.autoscaler, LM_AUTOSCALER_KPA);
    assert_true(d.cfg.target == 1.0);
    assert_int_equal(d.target_set, 0);
    assert_int_equal(d.cfg.stable_window_ms, 60000);
    assert_int_equal(d.cfg.panic_window_ms, 6000);
    assert_true(d.cfg.panic_threshold == 2.0);
    assert_int_equal(d.cfg.tick_ms, 2000);
    assert_int_equal(lm_service_spec_check(&d, "", NULL), LM_OK);
}

/* The command line's flags are the base, the file's defaults override
 * them, and each service overrides those. */
static void test_layering(void **state) {
    (void)state;
    lm_service_spec base;
    lm_service_spec_defaults(&base);
    base.cfg.max_scale = 10;       /* --max-scale 10 */
    base.cfg.idle_timeout_ms = 77; /* --idle-timeout 77 */
    base.cfg.queue_max = 5;        /* --queue 5 */
    base.cfg.memory_limit = 64ull << 20;
    const char *json = "{\"defaults\": {\"idle_timeout_ms\": 88, \"max_scale\": 12,\n"
                       "  \"container_concurrency\": 3},\n"
                       " \"services\": [{\"name\": \"fibonacci\", \"max_scale\": 2},\n"
                       "              {\"name\": \"noop\", \"target\": 0.5},\n"
                       "              {\"name\": \"faulty\", \"container_concurrency\": 1}]}";
    char err[LM_ERRLEN] = "";
    lm_serve_config c;
    assert_int_equal(lm_serve_config_parse(json, strlen(json), &base, &c, err), LM_OK);
    assert_int_equal(c.defaults.cfg.max_scale, 12);       /* file over flag */
    assert_int_equal(c.defaults.cfg.idle_timeout_ms, 88); /* file over flag */
    assert_int_equal(c.defaults.cfg.queue_max, 5);        /* flag */
    assert_true(c.defaults.cfg.target == 3.0);
    const lm_service_spec *s = &c.services[0];
    assert_int_equal(s->cfg.max_scale, 2);              /* service over file */
    assert_int_equal(s->cfg.idle_timeout_ms, 88);       /* file */
    assert_int_equal(s->cfg.queue_max, 5);              /* flag */
    assert_int_equal(s->cfg.memory_limit, 64ull << 20); /* flag */
    assert_true(s->cfg.target == 3.0);
    assert_true(c.services[1].cfg.target == 0.5);
    assert_true(c.services[2].cfg.target == 1.0); /* follows its own concurrency */
    /* A POST body over the config's defaults. */
    lm_service_spec p = parse_one("{\"name\":\"fibonacci\",\"queue_max\":9}", &c.defaults, NULL);
    assert_int_equal(p.cfg.max_scale, 12);
    assert_int_equal(p.cfg.idle_timeout_ms, 88);
    assert_int_equal(p.cfg.queue_max, 9);
    lm_serve_config_free(&c);

    /* An explicit target stays through later layers. */
    json = "{\"defaults\": {\"target\": 0.7},\n"
           " \"services\": [{\"name\": \"fibonacci\", \"container_concurrency\": 10}]}";
    assert_int_equal(lm_serve_config_parse(json, strlen(json), NULL, &c, err), LM_OK);
    assert_int_equal(c.defaults.target_set, 1);
    assert_true(c.services[0].cfg.target == 0.7);
    assert_int_equal(c.services[0].cfg.container_concurrency, 10);
    lm_serve_config_free(&c);

    /* A base that breaks a rule is reported as the defaults. */
    base.cfg.min_scale = 20;
    assert_int_equal(lm_serve_config_parse("{}", 2, &base, &c, err), LM_ERR);
    assert_non_null(strstr(err, "defaults: min_scale 20 is above max_scale 10"));
    /* ... unless the file's defaults fix it. */
    const char *fix = "{\"defaults\": {\"max_scale\": 20}}";
    assert_int_equal(lm_serve_config_parse(fix, strlen(fix), &base, &c, err), LM_OK);
    lm_serve_config_free(&c);
}

static void test_default_runtimes(void **state) {
    (void)state;
    lm_serve_config c;
    parse_ok("{\"default_runtimes\": {\"fibonacci\": \"wasm-aot\", \"noop\": \"container\"}}", &c);
    assert_string_equal(lm_default_runtime(&c.runtimes, "fibonacci"), "wasm-aot");
    assert_string_equal(lm_default_runtime(&c.runtimes, "noop"), "container");
    assert_string_equal(lm_default_runtime(&c.runtimes, "faulty"), "native"); /* no "*" */
    assert_string_equal(lm_default_runtime(NULL, "fibonacci"), "native");
    lm_service_spec s = parse_one("{\"name\":\"fibonacci\"}", &c.defaults, &c.runtimes);
    assert_string_equal(s.name, "fibonacci@wasm-aot");
    s = parse_one("{\"name\":\"fibonacci@native\"}", &c.defaults, &c.runtimes);
    assert_string_equal(s.name, "fibonacci@native"); /* an explicit runtime wins */
    s = parse_one("{\"name\":\"faulty\"}", &c.defaults, &c.runtimes);
    assert_string_equal(s.name, "faulty@native");
    s = parse_one("{\"name\":\"fibonacci\"}", NULL, NULL);
    assert_string_equal(s.name, "fibonacci@native");
    lm_serve_config_free(&c);

    parse_ok("{\"default_runtimes\": {\"*\": \"wasm-jit\", \"fibonacci\": \"native\"}}", &c);
    assert_string_equal(lm_default_runtime(&c.runtimes, "fibonacci"), "native");
    assert_string_equal(lm_default_runtime(&c.runtimes, "noop"), "wasm-jit");
    lm_serve_config_free(&c);
}

static void test_post_bodies(void **state) {
    (void)state;
    char err[LM_ERRLEN];
    lm_service_spec *specs = NULL;
    int n = 0;
    const char *list = "{\"services\":[{\"name\":\"fibonacci@wasm-aot\",\"max_scale\":3},"
                       "{\"name\":\"noop\"}]}";
    assert_int_equal(lm_service_specs_parse(list, strlen(list), NULL, NULL, &specs, &n, err),
                     LM_OK);
    assert_int_equal(n, 2);
    assert_string_equal(specs[0].name, "fibonacci@wasm-aot");
    assert_int_equal(specs[0].cfg.max_scale, 3);
    assert_string_equal(specs[1].name, "noop@native");
    free(specs);
    assert_int_equal(lm_service_specs_parse("{\"services\":[]}", 15, NULL, NULL, &specs, &n, err),
                     LM_OK);
    assert_int_equal(n, 0);
    assert_null(specs);
    lm_service_spec s =
        parse_one("{\"name\":\"prime-numbers@wasm-interp\",\"autoscaler\":\"none\"}", NULL, NULL);
    assert_string_equal(s.function, "prime-numbers");
    assert_string_equal(s.runtime, "wasm-interp");
    assert_int_equal(s.cfg.autoscaler, LM_AUTOSCALER_NONE);

    body_err("{\"name\":\"fibonacci\",\"max_scal\":3}",
             "max_scal: unknown field (did you mean max_scale?)");
    body_err("{\"max_scale\":3}", "top level: missing \"name\"");
    body_err("{\"services\":[],\"name\":\"fibonacci\"}", "name: not allowed beside \"services\"");
    body_err("{\"services\":{}}", "services: must be an array, not an object");
    body_err("[{\"name\":\"fibonacci\"}]", "top level: must be an object, not an array");
    body_err("{\"services\":[{\"name\":\"noop\"},{\"name\":\"noop@native\"}]}",
             "services[1].name: duplicate service 'noop@native' (also services[0])");
    body_err("{\"name\":\"fibonacci\",\"defaults\":{}}", "defaults: unknown field");
    body_err("", "line 1");
}

/* The writer's output, known answer, and parse -> write -> parse. */
static void test_round_trip(void **state) {
    (void)state;
    char err[LM_ERRLEN] = "";
    lm_serve_config c;
    parse_ok(full_file, &c);
    char *json = lm_service_spec_to_json(&c.services[0], err);
    assert_non_null(json);
    assert_string_equal(json, "{\"name\":\"fibonacci@wasm-jit\",\"max_scale\":8,\"min_scale\":0,"
                              "\"idle_timeout_ms\":0,\"queue_max\":0,\"queue_timeout_ms\":1,"
                              "\"request_timeout_ms\":86400000,\"memory_limit_mib\":256,"
                              "\"container_concurrency\":4,\"autoscaler\":\"kpa\",\"target\":0.7,"
                              "\"stable_window_ms\":20000,\"panic_window_ms\":2000,"
                              "\"panic_threshold\":1.5,\"tick_ms\":500}");
    free(json);
    for (int i = 0; i < c.nservices; i++) {
        json = lm_service_spec_to_json(&c.services[i], err);
        assert_non_null(json);
        /* A base unlike the spec, so that nothing can come from it. */
        lm_service_spec base;
        lm_service_spec_defaults(&base);
        base.cfg.max_scale = 64;
        base.cfg.queue_max = 999;
        lm_service_spec again = parse_one(json, &base, NULL);
        assert_true(lm_service_spec_equal(&c.services[i], &again));
        free(json);
    }
    /* Awkward doubles read back exactly. */
    lm_service_spec s = c.services[0];
    s.cfg.target = 0.1 + 0.2;
    s.cfg.panic_threshold = 10.0 / 3.0;
    json = lm_service_spec_to_json(&s, err);
    assert_non_null(json);
    lm_service_spec again = parse_one(json, NULL, NULL);
    assert_true(again.cfg.target == 0.1 + 0.2);
    assert_true(again.cfg.panic_threshold == 10.0 / 3.0);
    assert_true(lm_service_spec_equal(&s, &again));
    free(json);
    /* equal notices a difference */
    again.cfg.tick_ms++;
    assert_false(lm_service_spec_equal(&s, &again));
    again = s;
    again.cfg.memory_limit += 1;
    assert_false(lm_service_spec_equal(&s, &again));
    /* A spec without a name (the defaults) leaves the name out. */
    json = lm_service_spec_to_json(&c.defaults, err);
    assert_non_null(json);
    assert_memory_equal(json, "{\"max_scale\":6,", 15);
    free(json);
    lm_serve_config_free(&c);
}

static void test_unknown_fields(void **state) {
    (void)state;
    file_err("{\"services\":[{\"name\":\"noop\"},{\"name\":\"fibonacci\"},"
             "{\"name\":\"faulty\",\"max_scal\":3}]}",
             "services[2].max_scal: unknown field (did you mean max_scale?)");
    file_err("{\"servics\":[]}", "servics: unknown field (did you mean services?)");
    file_err("{\"defaults\":{\"memory_limit\":3}}",
             "defaults.memory_limit: unknown field (did you mean memory_limit_mib?)");
    file_err("{\"x\":1}", "x: unknown field (fields: defaults, default_runtimes, services)");
    service_err("{\"name\":\"noop\",\"color\":\"blue\"}",
                "services[0].color: unknown field (fields: name, max_scale");
    file_err("{\"defaults\":{\"name\":\"fibonacci\"}}",
             "defaults.name: a name belongs in a service");
    /* Control bytes in a key are not copied raw into the message. */
    file_err("{\"a\\nb\":1}", "a?b: unknown field");
}

static void test_types(void **state) {
    (void)state;
    service_err("{\"name\":\"noop\",\"max_scale\":\"4\"}",
                "services[0].max_scale: must be an integer, not a string");
    service_err("{\"name\":\"noop\",\"max_scale\":2.5}",
                "services[0].max_scale: must be an integer, not 2.5");
    service_err("{\"name\":\"noop\",\"max_scale\":4.0}",
                "services[0].max_scale: must be an integer, not 4.0");
    service_err("{\"name\":\"noop\",\"max_scale\":1e1}", "must be an integer, not 10.0");
    service_err("{\"name\":\"noop\",\"queue_max\":null}",
                "queue_max: must be an integer, not null");
    service_err("{\"name\":\"noop\",\"target\":true}", "target: must be a number, not true");
    service_err("{\"name\":\"noop\",\"autoscaler\":\"hpa\"}",
                "services[0].autoscaler: must be \"kpa\" or \"none\", not \"hpa\"");
    service_err("{\"name\":\"noop\",\"autoscaler\":1}",
                "must be \"kpa\" or \"none\", not an integer");
    service_err("{\"name\":7}", "services[0].name: must be a string");
    service_err("[]", "services[0]: a service must be an object, not an array");
    file_err("{\"defaults\":[]}", "defaults: must be an object, not an array");
    file_err("{\"services\":{}}", "services: must be an array, not an object");
    file_err("{\"default_runtimes\":[]}", "default_runtimes: must be an object, not an array");
    file_err("{\"default_runtimes\":{\"noop\":1}}",
             "default_runtimes.noop: must be a string (a runtime name), not an integer");
}

static void test_ranges(void **state) {
    (void)state;
    static const struct {
        const char *field, *value, *want;
    } cases[] = {
        {"max_scale", "0", "max_scale: 0 is out of range (1 to 64)"},
        {"max_scale", "65", "max_scale: 65 is out of range (1 to 64)"},
        {"min_scale", "-1", "min_scale: -1 is out of range (0 to 64)"},
        {"idle_timeout_ms", "86400001", "86400001 is out of range (0 to 86400000)"},
        {"queue_max", "1000001", "1000001 is out of range (0 to 1000000)"},
        {"queue_timeout_ms", "0", "queue_timeout_ms: 0 is out of range (1 to 86400000)"},
        {"request_timeout_ms", "0", "request_timeout_ms: 0 is out of range (1 to 86400000)"},
        {"memory_limit_mib", "1048577", "1048577 is out of range (0 to 1048576)"},
        {"memory_limit_mib", "-1", "-1 is out of range (0 to 1048576)"},
        {"container_concurrency", "0", "0 is out of range (1 to 1000)"},
        {"container_concurrency", "1001", "1001 is out of range (1 to 1000)"},
        {"target", "0", "target: 0 is out of range (above 0, at most 1000)"},
        {"target", "-0.5", "-0.5 is out of range (above 0, at most 1000)"},
        {"stable_window_ms", "9", "9 is out of range (10 to 3600000)"},
        {"panic_window_ms", "3600001", "3600001 is out of range (10 to 3600000)"},
        {"panic_threshold", "1.0", "panic_threshold: 1 is out of range (1.1 to 10)"},
        {"panic_threshold", "10.5", "10.5 is out of range (1.1 to 10)"},
        {"tick_ms", "60001", "60001 is out of range (10 to 60000)"},
        {"max_scale", "99999999999999999999", "too big integer"},
        {"target", "1e999", "real number overflow"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char svc[256], want[256];
        snprintf(svc, sizeof svc, "{\"name\":\"noop\",\"%s\":%s}", cases[i].field, cases[i].value);
        service_err(svc, cases[i].want);
        if (strstr(cases[i].want, "out of range")) {
            snprintf(want, sizeof want, "services[0].%s: ", cases[i].field);
            service_err(svc, want);
        }
    }
    /* The edges themselves are fine. */
    lm_service_spec s = parse_one("{\"name\":\"noop\",\"max_scale\":64,\"min_scale\":64,"
                                  "\"idle_timeout_ms\":86400000,\"queue_max\":1000000,"
                                  "\"memory_limit_mib\":1048576,\"container_concurrency\":1000,"
                                  "\"target\":1000,\"panic_threshold\":10,\"tick_ms\":10,"
                                  "\"panic_window_ms\":10,\"stable_window_ms\":10}",
                                  NULL, NULL);
    assert_int_equal(s.cfg.memory_limit, 1048576ull << 20);
    assert_true(s.cfg.target == 1000);
}

static void test_relations(void **state) {
    (void)state;
    service_err("{\"name\":\"noop\",\"min_scale\":5}",
                "services[0]: min_scale 5 is above max_scale 4");
    service_err("{\"name\":\"noop\",\"target\":2}",
                "services[0]: target 2 is above container_concurrency 1");
    service_err("{\"name\":\"noop\",\"panic_window_ms\":70000}",
                "services[0]: panic_window_ms 70000 is above stable_window_ms 60000");
    service_err("{\"name\":\"noop\",\"tick_ms\":7000}",
                "services[0]: tick_ms 7000 is above panic_window_ms 6000");
    file_err("{\"defaults\":{\"min_scale\":9}}", "defaults: min_scale 9 is above max_scale 4");
    /* A relation broken by the defaults and mended by the service. */
    lm_serve_config c;
    parse_ok("{\"defaults\":{\"target\":3,\"container_concurrency\":3},"
             "\"services\":[{\"name\":\"noop\",\"target\":1,\"container_concurrency\":1}]}",
             &c);
    lm_serve_config_free(&c);
    /* A defaults target above a service's own concurrency is an error there. */
    file_err("{\"defaults\":{\"target\":3,\"container_concurrency\":3},"
             "\"services\":[{\"name\":\"noop\",\"container_concurrency\":1}]}",
             "services[0]: target 3 is above container_concurrency 1");
    /* check() itself */
    char err[LM_ERRLEN];
    lm_service_spec s;
    lm_service_spec_defaults(&s);
    s.cfg.memory_limit = 1000;
    assert_int_equal(lm_service_spec_check(&s, "x", err), LM_ERR);
    assert_non_null(strstr(err, "x: memory limit of 1000 bytes is not a whole number of MiB"));
    lm_service_spec_defaults(&s);
    s.cfg.max_scale = 0;
    assert_int_equal(lm_service_spec_check(&s, "", err), LM_ERR);
    assert_non_null(strstr(err, "max_scale: 0 is out of range (1 to 64)"));
}

static void test_names(void **state) {
    (void)state;
    service_err("{\"name\":\"\"}",
                "services[0].name: empty (expected FUNCTION@RUNTIME or FUNCTION)");
    service_err("{\"name\":\"fibonacci@wasm@aot\"}",
                "services[0].name: 'fibonacci@wasm@aot' has more than one '@'");
    service_err("{\"name\":\"@native\"}", "services[0].name: '@native' has no function before '@'");
    service_err("{\"name\":\"fibonacci@\"}",
                "services[0].name: 'fibonacci@' has no runtime after '@'");
    service_err("{\"name\":\"fibonaci@native\"}",
                "services[0].name: unknown function 'fibonaci' (did you mean fibonacci? "
                "`lumos functions` lists them)");
    service_err("{\"name\":\"fib\"}", "unknown function 'fib' (did you mean fibonacci?");
    service_err("{\"name\":\"quicksort\"}",
                "unknown function 'quicksort' (`lumos functions` lists them)");
    service_err("{\"name\":\"fibonacci@wasm-aott\"}",
                "services[0].name: unknown runtime 'wasm-aott' (did you mean wasm-aot? "
                "`lumos runtimes` lists them)");
    service_err("{\"name\":\"fibonacci@jvm\"}", "unknown runtime 'jvm' (`lumos runtimes`");
    service_err("{\"max_scale\":2}",
                "services[0]: missing \"name\" (FUNCTION@RUNTIME or FUNCTION)");
    file_err("{\"services\":[{\"name\":\"fibonacci\"},{\"name\":\"noop\"},"
             "{\"name\":\"fibonacci@native\"}]}",
             "services[2].name: duplicate service 'fibonacci@native' (also services[0])");
    /* Duplicates found through the default runtime. */
    file_err("{\"default_runtimes\":{\"*\":\"wasm-aot\"},"
             "\"services\":[{\"name\":\"noop@wasm-aot\"},{\"name\":\"noop\"}]}",
             "services[1].name: duplicate service 'noop@wasm-aot' (also services[0])");
    file_err("{\"default_runtimes\":{\"fibonaci\":\"native\"}}",
             "default_runtimes.fibonaci: unknown function 'fibonaci' (did you mean fibonacci?");
    file_err("{\"default_runtimes\":{\"*\":\"wasm-jitt\"}}",
             "default_runtimes.*: unknown runtime 'wasm-jitt' (did you mean wasm-jit?");
    /* A long name is cut in messages. */
    char svc[512], name[300];
    memset(name, 'f', 200);
    name[200] = 0;
    snprintf(svc, sizeof svc, "{\"name\":\"%.100s\"}", name);
    service_err(svc, "...' (`lumos functions` lists them)");
}

static void test_limits(void **state) {
    (void)state;
    /* names: 127 bytes pass the length check (then are unknown), 128 do not */
    char name[200], svc[300];
    memset(name, 'a', sizeof name);
    name[127] = 0;
    snprintf(svc, sizeof svc, "{\"name\":\"%s\"}", name);
    service_err(svc, "unknown function");
    name[127] = 'a';
    name[128] = 0;
    snprintf(svc, sizeof svc, "{\"name\":\"%s\"}", name);
    service_err(svc, "services[0].name: longer than 127 bytes");

    /* 64 services pass, 65 do not */
    lm_buf b = {0};
    lm_buf_printf(&b, "{\"services\":[");
    static const char *const fns[] = {"fibonacci",       "noop",           "faulty",
                                      "prime-numbers",   "fuzzy-search",   "mandelbrot-bitmap",
                                      "encrypt-message", "decrypt-message"};
    static const char *const rts[] = {
        "native",         "wasm-aot",           "wasm-interp",
        "wasm-jit",       "wasm-baseline",      "container",
        "container-slim", "container+wasm-aot", "container+wasm-interp-wabt"};
    int count = 0;
    for (size_t f = 0; f < 8 && count < 65; f++)
        for (size_t r = 0; r < 9 && count < 65; r++, count++)
            lm_buf_printf(&b, "%s{\"name\":\"%s@%s\"}", count ? "," : "", fns[f], rts[r]);
    assert_int_equal(count, 65);
    /* cut after 64 entries */
    char *last = strrchr(b.data, '{');
    size_t len64 = (size_t)(last - b.data) - 1;
    lm_buf c64 = {0};
    lm_buf_append(&c64, b.data, len64);
    lm_buf_printf(&c64, "]}");
    lm_buf_printf(&b, "]}");
    lm_serve_config c;
    parse_ok(c64.data, &c);
    assert_int_equal(c.nservices, 64);
    lm_serve_config_free(&c);
    file_err(b.data, "services: 65 services, at most 64");
    lm_buf_free(&b);
    lm_buf_free(&c64);

    /* 1 MiB of text passes (whitespace), one byte more does not */
    size_t big = LM_SERVICE_CONFIG_MAX_BYTES;
    char *text = malloc(big + 2);
    assert_non_null(text);
    memset(text, ' ', big + 1);
    memcpy(text, "{}", 2);
    text[big + 1] = 0;
    char err[LM_ERRLEN];
    assert_int_equal(lm_serve_config_parse(text, big, NULL, &c, err), LM_OK);
    lm_serve_config_free(&c);
    assert_int_equal(lm_serve_config_parse(text, big + 1, NULL, &c, err), LM_ERR);
    assert_non_null(strstr(err, "over the limit of 1048576"));
    lm_service_spec *specs;
    int n;
    assert_int_equal(lm_service_specs_parse(text, big + 1, NULL, NULL, &specs, &n, err), LM_ERR);
    assert_non_null(strstr(err, "over the limit"));

    /* and the loader refuses such a file before parsing it */
    char path[] = "/tmp/lumos-test-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, big + 1), (ssize_t)(big + 1));
    close(fd);
    assert_int_equal(lm_serve_config_load(path, NULL, &c, err), LM_ERR);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "larger than the limit of 1048576 bytes"));
    unlink(path);
    free(text);
}

static void test_syntax(void **state) {
    (void)state;
    file_err("{\"services\": [}", "line 1, column");
    file_err("{\"defaults\":{},\"defaults\":{}}", "duplicate object key");
    file_err("{} {}", "end of file expected");
    file_err("{\"a\":1,}", "line 1");
    file_err("[]", "top level: must be an object, not an array");
    file_err("\"x\"", "line 1");
    file_err("{\"services\":[{\"name\":\"no\\u0000op\"}]}", "NUL");
    file_err("{\"services\":[{\"name\":\"noop\"}]\n,\n\"x\":", "line 3");
}

static void test_load_file(void **state) {
    (void)state;
    char path[] = "/tmp/lumos-test-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, full_file, strlen(full_file)), (ssize_t)strlen(full_file));
    close(fd);
    lm_serve_config c;
    char err[LM_ERRLEN] = "";
    assert_int_equal(lm_serve_config_load(path, NULL, &c, err), LM_OK);
    assert_int_equal(c.nservices, 4);
    assert_string_equal(c.services[1].name, "fibonacci@wasm-aot");
    lm_serve_config_free(&c);

    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    const char *bad = "{\"defaults\": {\"max_scale\": 100}}";
    assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
    close(fd);
    assert_int_equal(lm_serve_config_load(path, NULL, &c, err), LM_ERR);
    char want[200];
    snprintf(want, sizeof want, "%s: defaults.max_scale: 100 is out of range (1 to 64)", path);
    assert_string_equal(err, want);
    unlink(path);

    assert_int_equal(lm_serve_config_load(path, NULL, &c, err), LM_ERR);
    assert_non_null(strstr(err, "cannot open: No such file or directory"));
    assert_int_equal(lm_serve_config_load("/tmp", NULL, &c, err), LM_ERR);
    assert_non_null(strstr(err, "/tmp: cannot read"));
}

/* The pool's settings and a spec map onto each other without loss, and the
 * pool's JSON (services.config_json, GET /services) is the spec writer's,
 * so a --config file could carry it back. */
static void assert_config_equal(const lm_service_config *a, const lm_service_config *b) {
    assert_int_equal(a->max_scale, b->max_scale);
    assert_int_equal(a->min_scale, b->min_scale);
    assert_int_equal(a->idle_timeout_ms, b->idle_timeout_ms);
    assert_int_equal(a->queue_max, b->queue_max);
    assert_int_equal(a->queue_timeout_ms, b->queue_timeout_ms);
    assert_int_equal(a->request_timeout_ms, b->request_timeout_ms);
    assert_int_equal(a->memory_limit, b->memory_limit);
    assert_int_equal(a->container_concurrency, b->container_concurrency);
    assert_int_equal(a->autoscaler, b->autoscaler);
    assert_true(a->target == b->target && a->panic_threshold == b->panic_threshold);
    assert_int_equal(a->stable_window_ms, b->stable_window_ms);
    assert_int_equal(a->panic_window_ms, b->panic_window_ms);
    assert_int_equal(a->tick_ms, b->tick_ms);
}

static void test_pool_config_round_trip(void **state) {
    (void)state;
    lm_service_config c, back;
    lm_service_config_defaults(&c);
    c.max_scale = 9;
    c.min_scale = 2;
    c.idle_timeout_ms = 0;
    c.memory_limit = 256ull << 20;
    c.container_concurrency = 3;
    c.autoscaler = LM_AUTOSCALER_NONE;
    c.target = 0.7;
    c.stable_window_ms = 30000;
    c.panic_window_ms = 3000;
    c.panic_threshold = 2.5;
    c.tick_ms = 500;
    lm_service_spec sp;
    lm_service_spec_from_config(&c, &sp);
    assert_int_equal(sp.target_set, 1);
    back = sp.cfg;
    assert_config_equal(&c, &back);
    char json[1024], err[LM_ERRLEN];
    assert_true(lm_service_config_json(&c, json, sizeof(json)) > 0);
    assert_non_null(strstr(json, "\"memory_limit_mib\":256"));
    assert_non_null(strstr(json, "\"autoscaler\":\"none\""));
    assert_non_null(strstr(json, "\"target\":0.7"));
    lm_service_spec base, *out = NULL;
    lm_service_spec_defaults(&base);
    char body[1200];
    /* The JSON back through the POST /services parser, with a name. */
    snprintf(body, sizeof(body), "{\"name\":\"fibonacci@native\",%s", json + 1);
    int n = 0;
    assert_int_equal(lm_service_specs_parse(body, strlen(body), &base, NULL, &out, &n, err), LM_OK);
    assert_int_equal(n, 1);
    back = out[0].cfg;
    assert_config_equal(&c, &back);
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_config_round_trip),
        cmocka_unit_test(test_full_file),
        cmocka_unit_test(test_empty_and_builtin_defaults),
        cmocka_unit_test(test_layering),
        cmocka_unit_test(test_default_runtimes),
        cmocka_unit_test(test_post_bodies),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_unknown_fields),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_relations),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_syntax),
        cmocka_unit_test(test_load_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
