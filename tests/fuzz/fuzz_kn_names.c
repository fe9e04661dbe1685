/* fuzz_kn_names.c -- libFuzzer target for lm_exp_expand and
 * lm_exp_service_name (src/experiment/knative_names.c), which read
 * `lumos run --platform knative`'s --url-template and --service-template.
 * Properties: never a crash, undefined behaviour or a read past the input;
 * an accepted template's result fits its buffer and holds no '{' the
 * template did not have outside tokens; a name taken is a DNS-1035 label
 * of at most 57 bytes. The input is split at its first NUL into template
 * and function. Built alone by tests/fuzz/run_kn_names. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiment/experiment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = malloc(size + 2);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = s[size + 1] = 0;
    const char *tmpl = s, *fn = s + strlen(s) + 1;
    if (fn > s + size) fn = "";
    char out[256], err[LM_ERRLEN];
    if (lm_exp_expand(tmpl, fn, "wasm-aot", "svc", out, sizeof out, err) == LM_OK) {
        if (strlen(out) >= sizeof out) abort();
        if (!strchr(tmpl, '{') && strcmp(out, tmpl) != 0) abort();
    } else if (!err[0]) {
        abort();
    }
    char name[64];
    if (lm_exp_service_name(tmpl, fn, "container+wasm-aot", name, sizeof name, err) == LM_OK) {
        size_t n = strlen(name);
        if (n == 0 || n > 57 || !(name[0] >= 'a' && name[0] <= 'z') || name[n - 1] == '-') abort();
        for (size_t i = 0; i < n; i++)
            if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
                  name[i] == '-'))
                abort();
    }
    free(s);
    return 0;
}
