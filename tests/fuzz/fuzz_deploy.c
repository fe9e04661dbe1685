/* fuzz_deploy.c -- libFuzzer target for the deploy room's readers and
 * writer: every input is read as a `--classes` override file
 * (lm_deploy_classes_parse) over the built-in table, and, when it is a
 * JSON object or array, written as YAML (lm__deploy_yaml). A read gives
 * either a table whose every row is complete, or a non-empty error; the
 * YAML of any JSON document is written, holds no control character but
 * newlines, and ends with one; never a crash, undefined behaviour or a
 * leak (ASan, UBSan, LeakSanitizer).
 *
 * Built alone by tests/fuzz/run_deploy: the runtime registry and the
 * service config reader, which classes.c calls only in lm_deploy_load and
 * the cluster runtimes' registration, are stood in for below. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deploy/internal.h"
#include "runtime/runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- stand-ins for the host ------------------------------------------- */

const lm_runtime *lm_runtime_find(const char *name, char *err) {
    lm_errf(err, "unknown runtime '%s'", name);
    return NULL;
}
int lm_runtime_register(const lm_runtime *rt, char *err) { return LM_OK; }
int lm_serve_config_load(const char *path, const lm_service_spec *base, lm_serve_config *out,
                         char *err) {
    return lm_errf(err, "not in the fuzz target");
}
void lm_service_spec_defaults(lm_service_spec *s) { memset(s, 0, sizeof(*s)); }

/* ---- the properties ---------------------------------------------------- */

static void die(const char *what, const char *detail) {
    fprintf(stderr, "fuzz_deploy: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lm_deploy_classes c;
    lm_deploy_classes_default(&c);
    char err[LM_ERRLEN];
    memset(err, 'x', sizeof(err));
    if (lm_deploy_classes_parse(&c, (const char *)data, size, "fuzz", err) == LM_OK) {
        if (c.n < 1 || c.n > LM_DEPLOY_MAX_CLASSES) die("table size out of range", NULL);
        for (int i = 0; i < c.n; i++)
            if (!c.v[i].runtime[0] || !c.v[i].runtime_class[0] || !c.v[i].handler[0] ||
                !c.v[i].image[0])
                die("incomplete row", c.v[i].runtime);
    } else {
        if (!memchr(err, 0, sizeof(err))) die("error not terminated", NULL);
        if (!err[0]) die("refused without an error message", NULL);
    }
    json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (doc && ((json_is_object(doc) && json_object_size(doc)) ||
                (json_is_array(doc) && json_array_size(doc)))) {
        lm_buf b = {0};
        if (lm__deploy_yaml(&b, doc) != LM_OK) die("a JSON document not written as YAML", NULL);
        if (b.len == 0 || b.data[b.len - 1] != '\n') die("YAML does not end with a newline", NULL);
        for (size_t i = 0; i < b.len; i++)
            if ((unsigned char)b.data[i] < 0x20 && b.data[i] != '\n')
                die("a control character in the YAML", NULL);
        lm_buf_free(&b);
    }
    json_decref(doc);
    return 0;
}
