/* fuzz_service_config.c -- libFuzzer target for the service configuration
 * reader (src/platform/service_config.c): every input is read as a
 * `lumos serve --config` file and as a POST /services body. Each read must
 * give either specs that pass lm_service_spec_check and survive a
 * write -> parse round trip unchanged, or a non-empty error message; never
 * a crash, undefined behaviour or a leak (ASan, UBSan, LeakSanitizer).
 *
 * Built alone by tests/fuzz/run_service_config (not with the whole host):
 * the runtime registry is stood in for below, so the target needs only the
 * parser, the catalog and util.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/service_config.h"
#include "runtime/runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- stand-ins for the host ------------------------------------------- */

/* The built-in runtimes' names (as in src/runtime/) and one external one. */
static const lm_runtime runtimes[] = {
    {.name = "native"},
    {.name = "wasm-jit"},
    {.name = "wasm-baseline"},
    {.name = "wasm-interp"},
    {.name = "wasm-interp-wabt"},
    {.name = "wasm-aot"},
    {.name = "container"},
    {.name = "container-slim"},
    {.name = "container+wasm-aot"},
    {.name = "container+wasm-interp-wabt"},
    {.name = "wasmtime"},
};
#define NRUNTIMES (sizeof(runtimes) / sizeof(runtimes[0]))

const lm_runtime *const *lm_runtime_all(void) {
    static const lm_runtime *list[NRUNTIMES + 1];
    for (size_t i = 0; i < NRUNTIMES; i++)
        list[i] = &runtimes[i];
    return list;
}

const lm_runtime *lm_runtime_find(const char *name, char *err) {
    for (size_t i = 0; i < NRUNTIMES; i++)
        if (strcmp(runtimes[i].name, name) == 0) return &runtimes[i];
    lm_errf(err, "unknown runtime '%s'", name);
    return NULL;
}

/* ---- the properties ---------------------------------------------------- */

static void die(const char *what, const char *detail) {
    fprintf(stderr, "fuzz_service_config: %s%s%s\n", what, detail ? ": " : "",
            detail ? detail : "");
    abort();
}

/* An error must be a non-empty, terminated message. */
static void check_error(const char *err) {
    if (!memchr(err, 0, LM_ERRLEN)) die("error message not terminated", NULL);
    if (!err[0]) die("refused without an error message", NULL);
}

/* A parsed service: a valid spec whose JSON reads back as the same spec,
 * whatever the base. */
static void check_service(const lm_service_spec *s) {
    char err[LM_ERRLEN] = "";
    if (lm_service_spec_check(s, s->name, err) != LM_OK) die("parsed spec fails its check", err);
    const char *at = strchr(s->name, '@');
    if (!at || strncmp(s->name, s->function, (size_t)(at - s->name)) != 0 ||
        strcmp(at + 1, s->runtime) != 0)
        die("name is not function@runtime", s->name);
    char *json = lm_service_spec_to_json(s, err);
    if (!json) die("a parsed spec cannot be written", err);
    lm_service_spec base, *again = NULL;
    lm_service_spec_defaults(&base);
    base.cfg.max_scale = 64;
    base.cfg.min_scale = 3;
    base.cfg.container_concurrency = 7;
    base.cfg.tick_ms = 10;
    int n = 0;
    if (lm_service_specs_parse(json, strlen(json), &base, NULL, &again, &n, err) != LM_OK) {
        fprintf(stderr, "written: %s\n", json);
        die("written spec does not parse", err);
    }
    if (n != 1 || !lm_service_spec_equal(s, &again[0])) {
        fprintf(stderr, "written: %s\n", json);
        die("round trip changed the spec", s->name);
    }
    free(again);
    free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    char err[LM_ERRLEN];
    lm_serve_config c;

    /* As a config file. */
    err[0] = 0;
    if (lm_serve_config_parse(text, size, NULL, &c, err) == LM_OK) {
        if (lm_service_spec_check(&c.defaults, "defaults", err) != LM_OK)
            die("parsed defaults fail their check", err);
        if (c.nservices < 0 || c.nservices > LM_SERVICE_CONFIG_MAX_SERVICES)
            die("service count out of bounds", NULL);
        for (int i = 0; i < c.nservices; i++) {
            check_service(&c.services[i]);
            for (int j = 0; j < i; j++)
                if (strcmp(c.services[i].name, c.services[j].name) == 0)
                    die("duplicate names accepted", c.services[i].name);
        }
        /* The same text as a body over the file's own defaults and runtimes. */
        lm_service_spec *specs = NULL;
        int n = 0;
        err[0] = 0;
        if (lm_service_specs_parse(text, size, &c.defaults, &c.runtimes, &specs, &n, err) ==
            LM_OK) {
            for (int i = 0; i < n; i++)
                check_service(&specs[i]);
            free(specs);
        } else {
            check_error(err);
        }
        lm_serve_config_free(&c);
    } else {
        check_error(err);
        if (c.services || c.nservices) die("a refused file left services behind", NULL);
    }

    /* As a POST /services body over the built-in defaults. */
    lm_service_spec *specs = NULL;
    int n = -1;
    err[0] = 0;
    if (lm_service_specs_parse(text, size, NULL, NULL, &specs, &n, err) == LM_OK) {
        if (n < 0 || n > LM_SERVICE_CONFIG_MAX_SERVICES || (n > 0) != (specs != NULL))
            die("bad spec count", NULL);
        for (int i = 0; i < n; i++)
            check_service(&specs[i]);
        free(specs);
    } else {
        check_error(err);
        if (specs || n != 0) die("a refused body left specs behind", NULL);
    }
    return 0;
}
